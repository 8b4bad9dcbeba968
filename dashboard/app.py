"""Dash app factory: one app per process, pages registered from `dashboard/pages/`.

The read model (`ioc.queries.ReadModel`, over the read engine) lives in the Flask config
(`IOC_READ_MODEL`), so page layouts and callbacks read through `dashboard.data` without a global.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, dcc, html

from dashboard.briefings.web import register as register_briefings
from dashboard.data import province_name
from dashboard.desk.export_route import register as register_exports
from dashboard.security import install as install_security
from dashboard.security import nav_items
from ioc.config import Settings
from ioc.database import Database
from ioc.kpi import load_library
from ioc.queries import ReadModel, VersionedCache
from ioc.queries.model import CLOCK_BUCKET

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
PAGES_DIR = Path(__file__).resolve().parent / "pages"


def _shell() -> html.Div:
    province = province_name()
    title = (
        f"IOC {province} · Trung tâm giám sát, điều hành"
        if province
        else "IOC · Trung tâm giám sát, điều hành"
    )
    return html.Div(
        [
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand(title, href="/"),
                        html.Div(nav_items(), className="ioc-nav-user"),
                    ],
                    fluid=True,
                ),
                className="ioc-navbar",
                color="#0b2545",
                dark=True,
            ),
            dbc.Container(dash.page_container, fluid=True, className="py-3"),
            dcc.Location(id="url"),
        ]
    )


#: Seconds a web process reuses the data version it read (one query per page instead of one per
#: question); a load shows on the next page a second later at most.
VERSION_TTL = 1.0


def read_models(settings: Settings, database: Database) -> tuple[ReadModel, ReadModel]:
    """The desktop's read model (pages, lists, exports, briefings) and the wall's, each with its own
    cache. The wall follows every load (the data version is read again after a second, data ages
    and "overdue now" move every minute). The desktop's numbers are refreshed every
    `web.desk_refresh` seconds: a page is built once per refresh for each reader's scope, and the
    staff of twenty departments don't make the server rebuild every page after each minute's load.
    Every tile carries its own "data as of"."""
    library = load_library(settings.kpi_dir)
    web = settings.web
    refresh = max(float(web.desk_refresh), VERSION_TTL)

    def model(version_ttl: float, stale_for: float) -> ReadModel:
        return ReadModel(
            database.read_engine,
            library,
            settings,
            cache=VersionedCache(web.cache_entries, stale_for=stale_for),
            version_ttl=version_ttl,
            clock_bucket=timedelta(seconds=max(version_ttl, CLOCK_BUCKET.total_seconds())),
        )

    # a desktop answer may be served stale for a refresh period while its next one is built
    desk_stale = max(web.serve_stale_for, refresh) if web.serve_stale_for else 0
    return model(refresh, desk_stale), model(VERSION_TTL, web.serve_stale_for)


def create_app(settings: Settings, database: Database) -> Dash:
    """Build the Dash app for one province and one database."""
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        title="IOC · Trung tâm điều hành",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    desk, wall = read_models(settings, database)
    app.server.config["IOC_READ_MODEL"] = desk
    app.server.config["IOC_WALL_READ_MODEL"] = wall
    app.server.config["IOC_DATABASE"] = database
    app.layout = _shell
    register_exports(app.server)  # desk: /desk/export.csv|xlsx (one line, desk's route)
    register_briefings(app.server)  # briefings: /briefings/new, /briefings/<id>.pdf
    install_security(app, settings, database)  # logins, roles, scope, kiosks, CSRF, headers, audit
    return app
