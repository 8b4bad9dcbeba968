"""What a wall screen shows: every tile of every scene of one screen, ready to send to the browser.

Numbers come from the read model (`ioc.queries`: tiles, series, breakdowns, freshness) and tickers and
maps from `ioc.wall.feeds`; each tile view is computed once per data version and shared by all
screens (the read model's single-flight `VersionedCache`). Each tile carries a hash of its content so
the page redraws only changed tiles.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import Engine

from dashboard.components.kpi_tile import kpi_tile, period_text
from dashboard.wall import figures, render
from ioc.formatting import format_number
from ioc.wall import feeds
from ioc.wall.config import TileConfig, WallConfig
from ioc.wall.periods import resolve_period

FEED_KPI = {"overdue_dossiers": "dossiers_open_overdue", "incidents": "incidents_new"}


@dataclass(frozen=True)
class TileView:
    children: Any  # JSON-ready Dash components
    classes: str
    hash: str
    alert: str | None = None  # Vietnamese text when the tile is in alert


@dataclass(frozen=True)
class Context:
    read_model: Any
    engine: Engine
    wall: WallConfig
    province: str
    version: str
    now: datetime
    scale: float
    base_dir: Path | None = None

    def area(self, tile: TileConfig) -> str:
        return tile.area or self.wall.area or self.province

    def feed_area(self, tile: TileConfig) -> str | None:
        area = self.area(tile)
        return None if area == self.province else area

    def period(self, tile: TileConfig) -> Any:
        return resolve_period(tile.period, self.now.astimezone(self.read_model.settings.zone).date())


def to_json(children: Any) -> Any:
    return json.loads(json.dumps(children, cls=PlotlyJSONEncoder))


def _view(children: Any, classes: str, alert: str | None = None) -> TileView:
    payload = to_json(children)
    digest = hashlib.sha1(json.dumps([payload, classes, alert], sort_keys=True).encode()).hexdigest()[:16]
    return TileView(payload, classes, digest, alert)


def _tile_of(ctx: Context, kpi_id: str, tile: TileConfig) -> Any:
    """The read model's Tile of one KPI for this tile's area and period (it caches per version)."""
    period = ctx.period(tile)
    return ctx.read_model.tiles([kpi_id], area=ctx.area(tile), period=period)[kpi_id]


def _classes(kind: str, fresh: Any | None, alert: str | None) -> str:
    state = getattr(fresh, "freshness", "fresh") if fresh is not None else "fresh"
    return f"wall-tile wall-tile--{kind} ioc-fresh-{state}" + (" wall-tile--alert" if alert else "")


def _alert_of(fresh: Any | None, wall: WallConfig, title: str) -> str | None:
    """A KPI tile in red is an alert (a failed source is raised once per source, in control.py)."""
    if wall.alerts.kpi_red and fresh is not None and fresh.status == "red" and fresh.value is not None:
        return f"Không đạt chỉ tiêu: {title}"
    return None


def _kpi(ctx: Context, tile: TileConfig) -> TileView:
    data = _tile_of(ctx, tile.kpi or "", tile)
    title = tile.title or data.name_vi
    alert = _alert_of(data, ctx.wall, title)
    return _view(
        kpi_tile(data, title=title, show_sparkline=tile.sparkline), _classes("kpi", data, alert), alert
    )


def _ranking(ctx: Context, tile: TileConfig) -> TileView:
    fresh = _tile_of(ctx, tile.kpi or "", tile)
    result = ctx.read_model.breakdown(tile.kpi, tile.by, area=ctx.area(tile), period=ctx.period(tile))
    ascending = tile.reference is not None  # against a target line: the lowest first
    rows = sorted(result.rows, key=lambda r: (r.value is None, (r.value or 0) * (1 if ascending else -1)))
    children = render.ranking(
        tile.title or result.name_vi,
        rows[: tile.limit],
        decimals=result.decimals,
        unit=result.unit_vi,
        fresh=fresh,
        reference=tile.reference,
        reference_label=tile.reference_label,
    )
    return _view(children, _classes("ranking", fresh, None))


def _trend(ctx: Context, tile: TileConfig) -> TileView:
    lines = []
    decimals = 0
    running = False
    fresh = _tile_of(ctx, tile.kpi_ids[0], tile)
    for kpi_id in tile.kpi_ids:
        series = ctx.read_model.series(kpi_id, area=ctx.area(tile), count=tile.count)
        decimals = series.decimals
        labels = [period_text(p.period, short=True) for p in series.points]
        lines.append((series.name_vi, labels, [p.value for p in series.points]))
        running = running or bool(series.points and series.points[-1].running)
    title = tile.title or lines[0][0]
    figure = figures.trend_figure(lines, decimals=decimals, scale=ctx.scale, running_last=running)
    return _view([render.head(title, fresh), render.graph(figure)], _classes("trend", fresh, None))


def _table(ctx: Context, tile: TileConfig) -> TileView:
    by = tile.by or "area"
    columns: list[tuple[str, int]] = []
    values: dict[str, dict[str, float | None]] = {}
    labels: dict[str, str] = {}
    for kpi_id in tile.kpi_ids:
        result = ctx.read_model.breakdown(kpi_id, by, area=ctx.area(tile), period=ctx.period(tile))
        columns.append((result.name_vi, result.decimals))
        for row in result.rows:
            key = row.key or row.label
            labels[key] = row.label
            values.setdefault(key, {})[kpi_id] = row.value
    first = tile.kpi_ids[0]
    ordered = sorted(values, key=lambda k: -(values[k].get(first) or 0))[: tile.limit]
    rows = [(labels[k], [values[k].get(kpi) for kpi in tile.kpi_ids]) for k in ordered]
    fresh = _tile_of(ctx, first, tile)
    return _view(render.table(tile.title or "", columns, rows, fresh), _classes("table", fresh, None))


def _ticker(ctx: Context, tile: TileConfig) -> TileView:
    fresh = _tile_of(ctx, FEED_KPI[tile.feed or "incidents"], tile)
    with ctx.engine.connect() as connection:
        if tile.feed == "overdue_dossiers":
            items = feeds.overdue_dossiers(
                connection,
                now=ctx.now,
                area=ctx.feed_area(tile),
                department=tile.department,
                limit=tile.limit,
            )
            children = render.dossier_ticker(tile.title or "Hồ sơ quá hạn", items, ctx.now, fresh)
        else:
            found = feeds.latest_incidents(
                connection, area=ctx.feed_area(tile), category=tile.category, limit=tile.limit
            )
            children = render.incident_ticker(tile.title or "Sự cố mới nhất", found, ctx.now, fresh)
    return _view(children, _classes("ticker", fresh, None))


def _map(ctx: Context, tile: TileConfig) -> TileView:
    fresh = _tile_of(ctx, "incidents_new", tile)
    settings = ctx.wall.map
    with ctx.engine.connect() as connection:
        points = feeds.incident_points(
            connection,
            now=ctx.now,
            days=settings.days,
            area=ctx.feed_area(tile),
            category=tile.category,
            cluster_above=settings.cluster_above,
        )
    boundary = Path(settings.geojson) if settings.geojson else None
    if boundary is not None and ctx.base_dir is not None and not boundary.is_absolute():
        boundary = ctx.base_dir / boundary
    figure = figures.map_figure(points, scale=ctx.scale, boundary=boundary)
    title = tile.title or "Bản đồ sự cố"
    count = sum(p.count for p in points)
    children = [render.head(f"{title} · {format_number(count)}", fresh), render.graph(figure)]
    return _view(children, _classes("map", fresh, None))


def _static(ctx: Context, tile: TileConfig) -> TileView:
    if tile.kind == "clock":
        return _view(render.clock(), "wall-tile wall-tile--clock")
    return _view(render.notice(tile.title or "Thông báo", tile.text or ""), "wall-tile wall-tile--notice")


BUILDERS: dict[str, Callable[[Context, TileConfig], TileView]] = {
    "kpi": _kpi,
    "ranking": _ranking,
    "trend": _trend,
    "table": _table,
    "ticker": _ticker,
    "map": _map,
    "clock": _static,
    "notice": _static,
}


def tile_view(ctx: Context, tile: TileConfig) -> TileView:
    """One tile, computed once per data version and scale (whatever screen asks)."""
    key = ("wall-view", tile.model_dump_json(), ctx.wall.area, round(ctx.scale, 2))

    def compute() -> TileView:
        try:
            return BUILDERS[tile.kind](ctx, tile)
        except Exception as exc:  # a broken tile must not blank the screen; it says so
            title = tile.title or tile.kpi or tile.kind
            return _view(render.failed(title, type(exc).__name__), "wall-tile wall-tile--error", None)

    return ctx.read_model.cache.get_or_compute(key, ctx.version, compute)


def tile_key(scene_id: str, index: int) -> str:
    return f"{scene_id}.{index}"


def screen_layers(wall: WallConfig, screen_id: str) -> dict[str, tuple[TileConfig, ...]]:
    """The tiles of every scene of a screen ({scene id: tiles}), in the room's order."""
    found = wall.screen(screen_id)
    if found is None:
        raise KeyError(screen_id)
    _, room, screen = found
    return {scene.id: screen.tiles_for(scene.id) for scene in room.scenes}


def screen_views(ctx: Context, screen_id: str) -> dict[str, TileView]:
    """{tile key: view} for all scenes of one screen."""
    return {
        tile_key(scene_id, index): tile_view(ctx, tile)
        for scene_id, tiles in screen_layers(ctx.wall, screen_id).items()
        for index, tile in enumerate(tiles)
    }


def scale_for(width: int | None) -> float:
    """Figure type scale from the screen's width in CSS pixels (1920 → 1, 3840 → 2), in quarter steps."""
    if not width:
        return 1.0
    return max(0.5, min(2.0, round(width / 1920 * 4) / 4))


def now_utc() -> datetime:
    return datetime.now(UTC)
