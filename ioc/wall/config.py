"""The `wall:` section of config.yaml: rooms → screens → scenes → tiles (DESIGN §6, issue 8).

A room has one rotation of scenes (ids, names, durations in seconds) shared by all its screens, so
the whole room switches together; each screen says what it shows in each scene on its own grid
(rows × cols). A screen with nothing for a scene keeps showing its `default` tiles.

Validation errors carry the key path (`wall.rooms.ops.screens.2.scenes.overview.1.span`), like the
rest of the configuration; `ioc` exits 2 on them. This module imports nothing from `ioc.config`
(which imports it), so durations here are plain seconds.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TileKind = Literal["kpi", "ranking", "trend", "ticker", "map", "table", "clock", "notice"]
Feed = Literal["overdue_dossiers", "incidents"]
Compare = Literal["previous_period", "same_period_last_year"]

RELATIVE_PERIODS = (
    "today",
    "current_week",
    "current_month",
    "previous_month",
    "current_quarter",
    "current_year",
    "year_to_date",
    "latest",
)
_ABSOLUTE_PERIOD = re.compile(r"^\d{4}(-Q[1-4]|-W\d{2}|-\d{2}(-\d{2})?)?$")
_GRID = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
KPI_KINDS = ("kpi", "ranking", "trend", "table")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("use lower-case letters, digits, '-' or '_' (at most 40), e.g. ops-1")
    return value


def _grid(value: object) -> tuple[int, int]:
    """`3x3`, `[3, 3]` or `{rows: 3, cols: 3}` → (rows, cols)."""
    if isinstance(value, str) and (match := _GRID.match(value)):
        rows, cols = int(match[1]), int(match[2])
    elif isinstance(value, list | tuple) and len(value) == 2:
        rows, cols = int(value[0]), int(value[1])
    elif isinstance(value, dict) and set(value) == {"rows", "cols"}:
        rows, cols = int(value["rows"]), int(value["cols"])
    else:
        raise ValueError("expected rows×cols such as 3x3, [3, 3] or {rows: 3, cols: 3}")
    if not (1 <= rows <= 12 and 1 <= cols <= 12):
        raise ValueError("rows and cols must be between 1 and 12")
    return rows, cols


class TileConfig(_Strict):
    """One tile of a scene, placed on the screen's grid (`at` is 1-based row, col)."""

    kind: TileKind
    at: tuple[int, int] = Field(description="Row and column of the top-left cell, from 1")
    span: tuple[int, int] = Field(default=(1, 1), description="Rows and columns the tile covers")
    title: str | None = Field(default=None, description="Heading; default: the KPI's Vietnamese name")
    kpi: str | None = None
    kpis: tuple[str, ...] = Field(default=(), description="Several KPIs (trend lines, table columns)")
    area: str | None = Field(default=None, description="org_unit code; default: wall.area")
    period: str = Field(default="current_month", description="A relative code or a period code")
    compare: Compare | None = None
    by: Literal["area", "department", "procedure", "channel", "category"] | None = None
    limit: int = Field(default=10, ge=1, le=50)
    count: int = Field(default=12, ge=2, le=60, description="Trend: number of periods")
    feed: Feed | None = None
    category: str | None = Field(default=None, description="Incident category (ticker, map)")
    department: str | None = Field(default=None, description="Department code (ticker of dossiers)")
    text: str | None = Field(default=None, description="Notice text")
    reference: float | None = Field(default=None, description="Ranking: a reference line (e.g. 50 for 50 %)")
    reference_label: str | None = None
    sparkline: bool = True

    @field_validator("at", "span")
    @classmethod
    def _positive(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) < 1:
            raise ValueError("rows and columns count from 1")
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        if value not in RELATIVE_PERIODS and not _ABSOLUTE_PERIOD.match(value):
            allowed = ", ".join(RELATIVE_PERIODS)
            raise ValueError(f"expected one of {allowed} or a period code such as 2026-11, got {value!r}")
        return value

    @model_validator(mode="after")
    def _fields_of_kind(self) -> TileConfig:
        kind = self.kind
        if kind in ("kpi", "ranking") and not self.kpi:
            raise ValueError(f"a {kind} tile needs `kpi`")
        if kind == "ranking" and not self.by:
            raise ValueError("a ranking tile needs `by` (area, department, procedure, channel or category)")
        if kind in ("trend", "table") and not (self.kpi or self.kpis):
            raise ValueError(f"a {kind} tile needs `kpi` or `kpis`")
        if kind == "ticker" and not self.feed:
            raise ValueError("a ticker tile needs `feed` (overdue_dossiers or incidents)")
        if kind == "notice" and not self.text:
            raise ValueError("a notice tile needs `text`")
        return self

    @property
    def kpi_ids(self) -> tuple[str, ...]:
        return ((self.kpi,) if self.kpi else ()) + tuple(k for k in self.kpis if k != self.kpi)

    def cells(self) -> set[tuple[int, int]]:
        row, col = self.at
        return {(r, c) for r in range(row, row + self.span[0]) for c in range(col, col + self.span[1])}


class SceneConfig(_Strict):
    """A step of the room's rotation: shown on every screen of the room at the same time."""

    id: str
    name: str
    duration: int = Field(default=60, ge=5, le=3600, description="Seconds on screen")

    _id = field_validator("id")(_check_id)


class ScreenConfig(_Strict):
    id: str
    name: str
    grid: tuple[int, int] = Field(default=(2, 3), description="rows×cols of the screen's tile grid")
    default: tuple[TileConfig, ...] = Field(default=(), description="Tiles of scenes not listed below")
    scenes: dict[str, tuple[TileConfig, ...]] = Field(default_factory=dict)

    _id = field_validator("id")(_check_id)

    @field_validator("grid", mode="before")
    @classmethod
    def _parse_grid(cls, value: object) -> tuple[int, int]:
        return _grid(value)

    @model_validator(mode="after")
    def _tiles_fit(self) -> ScreenConfig:
        layouts = {"default": self.default, **self.scenes}
        for scene, tiles in layouts.items():
            taken: dict[tuple[int, int], int] = {}
            for index, tile in enumerate(tiles):
                cells = tile.cells()
                outside = [cell for cell in cells if cell[0] > self.grid[0] or cell[1] > self.grid[1]]
                if outside:
                    raise ValueError(
                        f"scenes.{scene}.{index}: tile at {list(tile.at)} span {list(tile.span)} "
                        f"leaves the {self.grid[0]}x{self.grid[1]} grid"
                    )
                for cell in cells:
                    if cell in taken:
                        raise ValueError(
                            f"scenes.{scene}.{index}: overlaps tile {taken[cell]} at cell {list(cell)}"
                        )
                    taken[cell] = index
        return self

    def tiles_for(self, scene_id: str) -> tuple[TileConfig, ...]:
        return self.scenes.get(scene_id, self.default)


class RoomConfig(_Strict):
    name: str
    layout: tuple[int, int] = Field(default=(3, 3), description="How the screens hang: rows×cols")
    scenes: tuple[SceneConfig, ...] = Field(min_length=1)
    screens: tuple[ScreenConfig, ...] = Field(min_length=1)

    @field_validator("layout", mode="before")
    @classmethod
    def _parse_layout(cls, value: object) -> tuple[int, int]:
        return _grid(value)

    @model_validator(mode="after")
    def _consistent(self) -> RoomConfig:
        scene_ids = [scene.id for scene in self.scenes]
        if len(set(scene_ids)) != len(scene_ids):
            raise ValueError("scene ids must be unique within a room")
        if len(self.screens) > self.layout[0] * self.layout[1]:
            raise ValueError(
                f"{len(self.screens)} screens do not fit the {self.layout[0]}x{self.layout[1]} layout"
            )
        for index, screen in enumerate(self.screens):
            unknown = sorted(set(screen.scenes) - set(scene_ids))
            if unknown:
                raise ValueError(
                    f"screens.{index}.scenes: unknown scene {unknown[0]!r} "
                    f"(the room has {', '.join(scene_ids)})"
                )
            if not screen.default and set(screen.scenes) != set(scene_ids):
                missing = sorted(set(scene_ids) - set(screen.scenes))
                raise ValueError(f"screens.{index}: no tiles for scene {missing[0]!r} and no `default`")
        return self

    @property
    def cycle(self) -> int:
        return sum(scene.duration for scene in self.scenes)


class AlertConfig(_Strict):
    kpi_red: bool = Field(default=True, description="A KPI tile turning red raises an alert")
    source_failed: bool = True
    incident_severity: int = Field(default=3, ge=1, le=5, description="Incidents at or above alert")
    incident_window_minutes: int = Field(default=60, ge=1, description="How recent such incidents must be")


class MapConfig(_Strict):
    geojson: str | None = Field(default=None, description="Boundary GeoJSON file drawn under the points")
    cluster_above: int = Field(default=300, ge=10, description="Cluster points when there are more")
    days: int = Field(default=7, ge=1, le=90, description="Incidents of the last N days")


class WallConfig(_Strict):
    """Video-wall screens. Empty by default (no wall)."""

    area: str | None = Field(default=None, description="Default org_unit of tiles; default: the province")
    refresh: int = Field(default=30, ge=5, le=600, description="Seconds between a screen's data refreshes")
    late_after: int = Field(default=90, ge=10, description="Seconds without heartbeat before 'late'")
    offline_after: int = Field(default=300, ge=20, description="Seconds without heartbeat before 'offline'")
    alerts: AlertConfig = AlertConfig()
    map: MapConfig = MapConfig()
    rooms: dict[str, RoomConfig] = Field(default_factory=dict)

    @field_validator("rooms")
    @classmethod
    def _room_ids(cls, rooms: dict[str, RoomConfig]) -> dict[str, RoomConfig]:
        for room_id in rooms:
            _check_id(room_id)
        return rooms

    @model_validator(mode="after")
    def _unique_screens(self) -> WallConfig:
        seen: dict[str, str] = {}
        for room_id, room in self.rooms.items():
            for screen in room.screens:
                if screen.id in seen:
                    raise ValueError(
                        f"screen id {screen.id!r} is used in rooms {seen[screen.id]} and {room_id}"
                    )
                seen[screen.id] = room_id
        if self.offline_after <= self.late_after:
            raise ValueError("offline_after must be longer than late_after")
        return self

    def screen(self, screen_id: str) -> tuple[str, RoomConfig, ScreenConfig] | None:
        """(room id, room, screen) of a screen id, or None."""
        for room_id, room in self.rooms.items():
            for screen in room.screens:
                if screen.id == screen_id:
                    return room_id, room, screen
        return None

    def kpi_ids(self) -> set[str]:
        return {
            kpi
            for room in self.rooms.values()
            for screen in room.screens
            for tiles in (screen.default, *screen.scenes.values())
            for tile in tiles
            for kpi in tile.kpi_ids
        }


def unknown_kpis(wall: WallConfig, known: set[str]) -> list[str]:
    """KPI ids the wall names that the KPI library does not define (checked when the app starts)."""
    return sorted(wall.kpi_ids() - known)
