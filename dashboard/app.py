"""Dash app factory: one app per process, pages registered from `dashboard/pages/`.

The read model (`ioc.queries.ReadModel`, over the read engine) lives in the Flask config
(`IOC_READ_MODEL`), so page layouts and callbacks read through `dashboard.data` without a global.
"""

from __future__ import annotations

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
    app.server.config["IOC_READ_MODEL"] = ReadModel(
        database.read_engine,
        load_library(settings.kpi_dir),
        settings,
        cache=VersionedCache(settings.web.cache_entries, stale_for=settings.web.serve_stale_for),
        version_ttl=VERSION_TTL,
    )
    app.server.config["IOC_DATABASE"] = database
    app.layout = _shell
    register_exports(app.server)  # desk: /desk/export.csv|xlsx (one line, desk's route)
    register_briefings(app.server)  # briefings: /briefings/new, /briefings/<id>.pdf
    install_security(app, settings, database)  # logins, roles, scope, kiosks, CSRF, headers, audit
    return app
