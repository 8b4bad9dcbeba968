"""What a briefing says: every number read once through the read model (no Dash, no Flask).

`collect()` gathers tiles, breakdowns and series for one area and period into plain dataclasses;
the commentary, the charts and the HTML template read only these, so each number printed or
quoted comes from the same read-model answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dashboard.desk.period_text import describe
from ioc.formatting import format_age, format_datetime, format_value
from ioc.kpi.periods import Period, month, parse_period
from ioc.kpi.result import KpiRow
from ioc.queries import BreakdownResult, ReadModel, Scope, Series, Tile
from ioc.queries.types import NO_DATA_VI

HEADLINE = (
    "dossiers_on_time_rate",
    "dossiers_received",
    "dossiers_open_overdue",
    "incidents_new",
    "incident_close_rate",
    "vneid_level2_rate",
)
SERVICES = (
    "dossiers_on_time_rate",
    "dossiers_received",
    "dossiers_finished",
    "dossiers_open_overdue",
    "dossiers_due_soon",
    "dossiers_online_rate",
)
INCIDENTS = (
    "incidents_new",
    "incidents_closed",
    "incident_close_rate",
    "incidents_open_overdue",
    "incidents_closed_on_time_rate",
)
DIGITAL = ("vneid_level2_rate", "vneid_level2_activations", "dvc_accounts")
STATUS_VI = {"green": "Đạt", "amber": "Cảnh báo", "red": "Không đạt", "none": "—"}
RANKING_LIMIT = 10
COLUMNS = {"department": "Sở, ngành", "area": "Xã, phường", "procedure": "Thủ tục", "category": "Lĩnh vực"}


@dataclass(frozen=True)
class Ranking:
    """A breakdown as the PDF prints it: label, value text, status."""

    title: str
    result: BreakdownResult
    limit: int = RANKING_LIMIT
    largest_first: bool = False
    column: str = "Đơn vị"

    @property
    def known(self) -> list[KpiRow]:
        """Rows with a value, in the engine's rank order (or largest value first)."""
        rows = [row for row in self.result.rows if row.value is not None]
        if self.largest_first:
            rows.sort(key=lambda row: -(row.value or 0.0))
        return rows

    @property
    def ranked(self) -> list[tuple[int, KpiRow]]:
        """(rank, row) of the rows printed: all when they fit, else the first and the last half of
        `limit` (the units furthest behind are always printed); a largest-first list its top."""
        known = list(enumerate(self.known, start=1))
        if len(known) <= self.limit or self.largest_first:  # "most often late": the top only
            return known[: self.limit]
        half = self.limit // 2
        return known[:half] + known[-half:]

    @property
    def rows(self) -> list[tuple[int, str, str, str]]:
        return [
            (rank, row.label, self.text(row.value), STATUS_VI.get(row.status, "—"))
            for rank, row in self.ranked
        ]

    @property
    def skipped(self) -> int:
        return len(self.known) - len(self.ranked)

    def text(self, value: float | None) -> str:
        return format_value(value, self.result.decimals, self.result.unit_vi, no_data=NO_DATA_VI)


@dataclass(frozen=True)
class StaleSource:
    source: str
    status: str
    age: timedelta | None
    last_success: datetime | None

    @property
    def sentence(self) -> str:
        """Said plainly: which source, since when, and what it means for the numbers."""
        if self.last_success is None:
            return f"Nguồn {self.source} chưa từng tải thành công: các số liệu từ nguồn này chưa có."
        failed = "lần tải gần nhất bị lỗi; " if self.status == "failed" else ""
        return (
            f"Nguồn {self.source}: {failed}cập nhật thành công lần cuối {format_age(self.age)} trước "
            f"({format_datetime(self.last_success)}); số liệu từ nguồn này có thể chưa đầy đủ."
        )


@dataclass(frozen=True)
class Content:
    province: str
    area: str
    area_name: str
    period: Period
    period_text: str
    generated_at: datetime
    data_as_of: datetime | None
    headline: tuple[Tile, ...]
    services: tuple[Tile, ...]
    departments: Ranking
    communes: Ranking
    late_procedures: Ranking
    on_time_series: Series
    incidents: tuple[Tile, ...]
    incident_categories: Ranking
    socio: tuple[Tile, ...]
    digital: tuple[Tile, ...]
    digital_areas: Ranking
    stale: tuple[StaleSource, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    departments_text: str | None = None  # a briefing narrowed to departments names them on every page

    @property
    def as_of_text(self) -> str:
        return format_datetime(self.data_as_of) if self.data_as_of else NO_DATA_VI

    def tiles(self) -> list[Tile]:
        return [*self.headline, *self.services, *self.incidents, *self.socio, *self.digital]


def previous_text(tile: Tile) -> str:
    return format_value(tile.previous, tile.decimals, tile.unit_vi, no_data="—")


def target_text(tile: Tile) -> str:
    return format_value(tile.target, tile.decimals, tile.unit_vi, no_data="—")


def _known(rm: ReadModel, ids: Sequence[str]) -> list[str]:
    return [kpi_id for kpi_id in ids if kpi_id in rm.library.kpis]


def _ranking(
    rm: ReadModel, title: str, kpi_id: str, by: str, area: str, period: Period, *, largest_first: bool = False
) -> Ranking:
    result = rm.breakdown(kpi_id, by, area=area, period=period)
    return Ranking(title, result, largest_first=largest_first, column=COLUMNS.get(by, "Đơn vị"))


def last_month(period: Period, now: datetime) -> Period:
    """The month holding the period's last day (or today's, for a period still running)."""
    last = min(period.end - timedelta(days=1), now.date())
    return month(last.year, last.month)


def _stale(rm: ReadModel) -> tuple[StaleSource, ...]:
    found = []
    for status in rm.source_health():
        if not status.enabled:
            continue
        failed = status.last_run is not None and status.last_run.status == "failed"
        if status.late or failed:
            found.append(
                StaleSource(
                    status.source,
                    status.last_run.status if status.last_run else "never",
                    status.data_age,
                    status.last_success,
                )
            )
    return tuple(found)


def _socio_ids(rm: ReadModel) -> list[str]:
    return [
        kpi.id
        for kpi in rm.kpis("socio_economic")
        if kpi.type != "latest" or kpi.targets or kpi.direction != "neutral"
    ]


def _departments_text(rm: ReadModel) -> str | None:
    """The departments a narrowed read model covers (a staff member's scope, a department filter)."""
    scope = getattr(rm, "scope", None)  # ioc.auth.scoped.ScopedReadModel
    if not isinstance(scope, Scope) or scope.departments is None:
        return None
    names = {option.code: option.name for option in rm.departments()}
    return ", ".join(sorted(names.get(code, code) for code in scope.departments))


def collect(rm: ReadModel, period: str | Period, area: str | None = None) -> Content:
    """Every number of one briefing, read through the read model."""
    today = rm.clock().astimezone(rm.settings.zone)
    when = parse_period(period, today=today.date())
    province = rm.settings.province.code
    area = area or province
    tiles = rm.tiles(
        sorted({*HEADLINE, *SERVICES, *INCIDENTS, *DIGITAL, *_socio_ids(rm)} & set(rm.library.kpis)),
        area=area,
        period=when,
        sparkline=0,
    )

    def pick(ids: Sequence[str]) -> tuple[Tile, ...]:
        return tuple(tiles[kpi_id] for kpi_id in _known(rm, ids))

    dated = [tile.data_as_of for tile in tiles.values() if tile.data_as_of is not None]
    return Content(
        province=rm.area_name(province) or province,
        area=area,
        area_name=rm.area_name(area) or area,
        period=when,
        period_text=describe(when),
        generated_at=rm.clock(),
        data_as_of=max(dated) if dated else None,
        headline=pick(HEADLINE),
        services=pick(SERVICES),
        departments=_ranking(
            rm, "Tỷ lệ đúng hạn theo sở, ngành", "dossiers_on_time_rate", "department", area, when
        ),
        communes=_ranking(rm, "Tỷ lệ đúng hạn theo xã, phường", "dossiers_on_time_rate", "area", area, when),
        late_procedures=_ranking(
            rm,
            "Thủ tục có nhiều hồ sơ trễ hạn nhất",
            "dossiers_finished_late",
            "procedure",
            area,
            when,
            largest_first=True,
        ),
        on_time_series=rm.series("dossiers_on_time_rate", area=area, end=last_month(when, today)),
        incidents=pick(INCIDENTS),
        incident_categories=_ranking(rm, "Sự cố theo lĩnh vực", "incidents_new", "category", area, when),
        socio=pick(_socio_ids(rm)),
        digital=pick(DIGITAL),
        digital_areas=_ranking(
            rm, "Tỷ lệ định danh mức 2 theo xã, phường", "vneid_level2_rate", "area", area, when
        ),
        stale=_stale(rm),
        departments_text=_departments_text(rm),
    )
