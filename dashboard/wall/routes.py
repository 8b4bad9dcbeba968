"""HTTP routes of the wall (Flask): the clock, one screen's data, the service worker.

`/wall/time` lets each page measure its offset from the server's clock; `/wall/data/<screen>` returns
every tile of the screen (JSON components with hashes) plus the operator's control state and the alert
strip, and records the screen's heartbeat; `/wall/sw.js` is the service worker, served from under
/wall/ so that its scope can be /wall/ (DESIGN §8).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from sqlalchemy import Engine

from dashboard.data import wall_read_model
from dashboard.wall import content, control

SW_FILE = Path(__file__).resolve().parent / "sw.js"

blueprint = Blueprint("ioc_wall", __name__)


@blueprint.get("/wall/time")
def server_time() -> Response:
    response = jsonify({"t": time.time() * 1000})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/wall/sw.js")
def service_worker() -> Response:
    response = Response(SW_FILE.read_text(encoding="utf-8"), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/wall/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/wall/data/<screen_id>")
def screen_data(screen_id: str) -> Response:
    model = wall_read_model()
    settings = model.settings
    wall = settings.wall
    if wall.screen(screen_id) is None:
        abort(404)
    now = content.now_utc()
    ctx = content.Context(
        read_model=model,
        engine=model.engine,
        wall=wall,
        province=settings.province.code,
        version=model.data_version(),
        now=now,
        scale=content.scale_for(request.args.get("w", type=int)),
        base_dir=settings.source_file.resolve().parent if settings.source_file else None,
    )
    minute = model.clock_tick()  # data ages and "overdue now" move with the clock
    # the previous minute's or version's screen while this one is computed (web.serve_stale_for)
    writer = current_app.config["IOC_DATABASE"].engine
    views, tiles_json = model.cache.get_or_compute(
        ("wall-screen", screen_id, ctx.scale), (ctx.version, minute), lambda: _tiles(ctx, screen_id, writer)
    )
    state = control.screen_state(
        writer,
        ctx,
        screen_id,
        scene=request.args.get("scene", ""),
        error=request.args.get("err", ""),
        views=views,
    )
    head = json.dumps({"t": now.timestamp() * 1000, "version": ctx.version, **state})
    response = Response(f'{head[:-1]}, "tiles": {tiles_json}}}', mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _tiles(ctx: content.Context, screen_id: str, writer: Engine) -> tuple[dict[str, content.TileView], str]:
    """A screen's tiles and their JSON, encoded once per data version and minute (36 screens, one
    encoding each); the alerts this content shows are raised as it is computed."""
    views = content.screen_views(ctx, screen_id)
    control.raise_alerts(writer, ctx, views)
    body = {key: {"hash": v.hash, "children": v.children, "classes": v.classes} for key, v in views.items()}
    return views, json.dumps(body, ensure_ascii=False)


def register(server: Flask) -> None:
    """Add the wall's routes to the app's Flask server (once per server)."""
    if "ioc_wall" not in server.blueprints:
        server.register_blueprint(blueprint)
