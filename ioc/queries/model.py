"""The read model: every reader (wall, desktop, PDF briefings, CLI) gets its numbers here.

No Dash, no Flask: an explicit engine, the KPI library and the settings, so the worker and the CLI
can use it as the web app does. Answers are cached by *data version* (see :meth:`ReadModel.data_version`),
so a wall of 36 screens asking the same question costs one computation per load.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text

from ioc import freshness as fresh
from ioc.config import Settings
from ioc.kpi.asof import kpi_freshness
from ioc.kpi.engine import compute, compute_many
from ioc.kpi.periods import Period, compare_period, current, local_midnight, parse_period, previous_period
from ioc.kpi.result import KpiResult
from ioc.kpi.spec import FactKpi, Kpi, KpiLibrary, LatestKpi, accumulates
from ioc.kpi.timeseries import compute_series
from ioc.queries import lookups, rows
from ioc.queries.cache import VersionedCache
from ioc.queries.copy_stream import CopyStream
from ioc.queries.csv_copy import copy_sql, csv_select
from ioc.queries.lineage import build_lineage, recent_runs
from ioc.queries.narrow import Narrowing, narrowed, normalise
from ioc.queries.types import (
    EVERYTHING,
    BreakdownResult,
    Lineage,
    RowPage,
    RunLine,
    Scope,
    Series,
    SeriesPoint,
    Tile,
)
from ioc.runs import SourceStatus, source_status

T = TypeVar("T")

#: Snapshot KPIs (open, overdue, due soon) move with the clock even without a load: their answers
#: are re-computed at least this often (the others only when the data version changes).
CLOCK_BUCKET = timedelta(minutes=1)
#: a list's first page is cached (per data version and clock tick) up to this many rows
FIRST_PAGE_CACHED = 200

_VERSION_SQL = text(
    """
    SELECT (SELECT coalesce(max(id), 0) FROM connector_run) AS last_run,
           (SELECT max(finished_at) FROM connector_run) AS last_finish,
           (SELECT coalesce(sum(rows_inserted + rows_updated), 0) FROM connector_run
             WHERE status = 'running') AS in_flight,
           (SELECT max(refreshed_at) FROM kpi.rollup_state) AS rollups,
           (SELECT count(*) FROM kpi.dossier_change) + (SELECT count(*) FROM kpi.incident_change) AS direct
    """
)


class ReadModel:
    """Tiles, series, breakdowns, rows, lineage and source health for one province's database."""

    def __init__(
        self,
        engine: Engine,
        library: KpiLibrary,
        settings: Settings,
        *,
        cache: VersionedCache | None = None,
        clock: Callable[[], datetime] | None = None,
        version_ttl: float = 0.0,
        clock_bucket: timedelta = CLOCK_BUCKET,
    ) -> None:
        self.engine = engine
        self.library = library
        self.settings = settings
        self.cache = cache if cache is not None else VersionedCache()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._libraries: dict[Narrowing, KpiLibrary] = {}
        #: reuse the data version read less than this many seconds ago and within the same clock tick
        #: (the web app: a page asks dozens of questions, one version query serves them all; the desk
        #: reads it once per refresh), shared with scoped views
        self.version_ttl = version_ttl
        self._version_memo: list[Any] = [float("-inf"), None, ""]
        #: how often answers that move with the clock are computed again (see `clock_tick`)
        self.clock_bucket = clock_bucket

    # ------------------------------------------------------------------------------ versioning

    def data_version(self, connection: Connection | None = None) -> str:
        """Changes whenever a load commits a batch, a run ends, rollups are refreshed, or rows are
        written past the runner (the rollups' change log, see `ioc.kpi.rollup`). One small query."""
        if connection is None:
            read_at, tick, version = self._version_memo
            now_tick = self.clock_tick()
            if time.monotonic() - read_at < self.version_ttl and tick == now_tick:
                return str(version)
            with self.engine.connect() as own:
                version = self.data_version(own)
            self._version_memo[:] = [time.monotonic(), now_tick, version]
            return str(version)
        row = connection.execute(_VERSION_SQL).one()
        return f"{row.last_run}:{row.last_finish}:{row.in_flight}:{row.rollups}:{row.direct}"

    def clock_tick(self) -> int:
        """The number of the current clock bucket (a minute by default): answers that move with the
        clock without any load (data ages, "overdue now") are computed again when it changes."""
        return int(self.clock().timestamp() // max(self.clock_bucket.total_seconds(), 1))

    def clock_term(self, kpi_id: str) -> int:
        """Part of a cache key: the clock tick for KPIs measured at "now" (open, overdue, due soon
        move with the clock without any load), 0 for the others, which only a load changes."""
        if not moves_with_clock(self.library, self.library.get(kpi_id)):
            return 0
        return self.clock_tick()

    def _cached(
        self,
        key: Hashable,
        compute_answer: Callable[[], T],
        version: str | None = None,
        kpi_id: str | None = None,
    ) -> T:
        return self.cache.get_or_compute(key, self._version(version, kpi_id), compute_answer)

    def _version(self, version: str | None, kpi_id: str | None = None) -> tuple[str, int]:
        """What an answer is valid for: the data version, and the minute for KPIs that move with the
        clock (so that, with stale answers allowed, a new minute serves the last one meanwhile)."""
        return (version or self.data_version(), self.clock_term(kpi_id) if kpi_id else 0)

    # ------------------------------------------------------------------------------ periods

    def current_period(self, grain: str = "month") -> Period:
        today = self.clock().astimezone(self.settings.zone).date()
        return current(grain, today)

    def _period(self, period: str | Period | None, kpi: Kpi | None = None) -> Period:
        if period is None:
            return self.current_period(kpi.grain if kpi else "month")
        return parse_period(period)

    # ------------------------------------------------------------------------------ freshness

    def dataset_freshness(self, version: str | None = None) -> dict[str, fresh.DatasetFreshness]:
        def answer() -> dict[str, fresh.DatasetFreshness]:
            with self.engine.connect() as connection:
                return fresh.dataset_freshness(fresh.source_runs(connection))

        return self._cached(("freshness",), answer, version)

    def kpi_freshness(self, kpi: Kpi) -> fresh.Freshness:
        return kpi_freshness(self.library, kpi, self.dataset_freshness(), self.clock())

    # ------------------------------------------------------------------------------ narrowing

    def narrowing(self, filters: Mapping[str, Any] | None, scope: Scope) -> Narrowing:
        """The desk's filters plus the reader's department scope; asking outside the scope is refused."""
        wanted = dict(normalise(filters))
        if scope.departments is not None:
            asked = wanted.get("department")
            if asked is not None and not set(asked) <= scope.departments:
                raise PermissionError("department outside this reader's scope")
            wanted["department"] = asked or tuple(sorted(scope.departments))
        return tuple(sorted(wanted.items()))

    def library_for(self, narrowing: Narrowing) -> KpiLibrary:
        if narrowing not in self._libraries:
            self._libraries[narrowing] = narrowed(self.library, narrowing)
        return self._libraries[narrowing]

    # ------------------------------------------------------------------------------ numbers

    def result(
        self,
        kpi_id: str,
        *,
        area: str,
        period: str | Period | None = None,
        breakdown: str | None = None,
        narrowing: Narrowing = (),
        version: str | None = None,
    ) -> KpiResult:
        """The engine's answer for one KPI (cached)."""
        when = self._period(period, self.library.get(kpi_id))
        return self._cached(
            self._result_key(kpi_id, area, when, breakdown, narrowing),
            lambda: compute(
                self.engine,
                self.library_for(narrowing),
                kpi_id,
                when,
                area,
                breakdown,
                now=self.clock(),
                zone=self.settings.zone,
            ),
            version,
            kpi_id,
        )

    def _result_key(
        self, kpi_id: str, area: str, when: Period, breakdown: str | None, narrowing: Narrowing
    ) -> Hashable:
        return ("result", kpi_id, area, when, breakdown, narrowing)

    def tiles(
        self,
        kpi_ids: Sequence[str],
        *,
        area: str,
        period: str | Period | None = None,
        filters: Mapping[str, Any] | None = None,
        scope: Scope = EVERYTHING,
        sparkline: int = 12,
    ) -> dict[str, Tile]:
        """Many KPIs for one area and period: value, change, target, status, freshness, sparkline.
        Numbers come from the cache (computed once per data version, together when missing); the
        data age is measured at each call."""
        self._check_scope(scope, area)
        narrowing = self.narrowing(filters, scope)
        version = self.data_version()
        self._prefetch(kpi_ids, area, period, narrowing, version)
        return {kpi_id: self._tile(kpi_id, area, period, sparkline, narrowing, version) for kpi_id in kpi_ids}

    def _prefetch(
        self,
        kpi_ids: Sequence[str],
        area: str,
        period: str | Period | None,
        narrowing: Narrowing,
        version: str,
    ) -> None:
        """Compute the results no cache holds yet in one engine context (one connection; the area,
        rollup state and freshness looked up once), grouped by period (KPIs differ in grain)."""
        by_period: dict[Period, list[str]] = {}
        for kpi_id in kpi_ids:
            when = self._period(period, self.library.get(kpi_id))
            key = self._result_key(kpi_id, area, when, None, narrowing)
            if not self.cache.servable(key, self._version(version, kpi_id)):
                by_period.setdefault(when, []).append(kpi_id)
        for when, missing in by_period.items():
            found = compute_many(
                self.engine,
                self.library_for(narrowing),
                missing,
                when,
                area,
                now=self.clock(),
                zone=self.settings.zone,
            )
            for kpi_id, result in found.items():
                key = self._result_key(kpi_id, area, when, None, narrowing)
                self.cache.put(key, self._version(version, kpi_id), result)

    def _tile(
        self,
        kpi_id: str,
        area: str,
        period: str | Period | None,
        sparkline: int,
        narrowing: Narrowing,
        version: str,
    ) -> Tile:
        kpi = self.library.get(kpi_id)
        when = self._period(period, kpi)
        result = self.result(kpi_id, area=area, period=when, narrowing=narrowing, version=version)
        state = kpi_freshness(self.library, kpi, self.dataset_freshness(version), self.clock())
        points = (
            self._points(kpi_id, area, self._periods(kpi, None, sparkline, when), narrowing, version)
            if sparkline
            else ()
        )
        return Tile(
            kpi_id=kpi.id,
            name_vi=kpi.name.vi,
            name_en=kpi.name.en,
            unit_vi=kpi.unit.vi,
            unit_en=kpi.unit.en,
            decimals=kpi.decimals,
            direction=kpi.direction,
            period=result.period,
            area=area,
            value=result.value,
            previous=result.previous,
            previous_period=result.previous_period,
            delta=result.delta,
            target=result.target,
            status=result.status,
            data_as_of=state.data_as_of,
            data_age=state.age,
            freshness=state.state,
            sources=state.sources,
            failed_sources=state.failed_sources,
            coverage=result.coverage,
            sparkline=tuple(point.value for point in points),
            observed_period=result.observed_period,
            running=result.running,
        )

    def _periods(
        self, kpi: Kpi, periods: Sequence[str | Period] | None, count: int, end: str | Period | None
    ) -> list[Period]:
        if periods is not None:
            return [parse_period(p) for p in periods]
        chosen = [self._period(end, kpi)]
        while len(chosen) < count:
            chosen.append(previous_period(chosen[-1]))
        return chosen[::-1]

    def _points(
        self, kpi_id: str, area: str, chosen: list[Period], narrowing: Narrowing, version: str | None = None
    ) -> tuple[SeriesPoint, ...]:
        kpi = self.library.get(kpi_id)
        values = self._cached(
            ("series", kpi_id, area, tuple(chosen), narrowing),
            lambda: compute_series(
                self.engine,
                self.library_for(narrowing),
                kpi_id,
                chosen,
                area,
                now=self.clock(),
                zone=self.settings.zone,
            ),
            version,
            kpi_id,
        )
        flags = self.indicator_flags(kpi_id, area) if isinstance(kpi, LatestKpi) else {}
        now, zone = self.clock(), self.settings.zone
        return tuple(
            SeriesPoint(
                when.label,
                when.start,
                value,
                kpi.target_for((when.end - timedelta(days=1)).year, area),
                flags.get(when.start),
                running=accumulates(kpi)
                and local_midnight(when.start, zone) <= now < local_midnight(when.end, zone),
            )
            for when, value in zip(chosen, values, strict=True)
        )

    def series(
        self,
        kpi_id: str,
        *,
        area: str,
        periods: Sequence[str | Period] | None = None,
        count: int = 12,
        end: str | Period | None = None,
        filters: Mapping[str, Any] | None = None,
        scope: Scope = EVERYTHING,
    ) -> Series:
        """A chart's points: the given periods, or `count` periods of the KPI's grain ending at `end`."""
        self._check_scope(scope, area)
        kpi = self.library.get(kpi_id)
        chosen = self._periods(kpi, periods, count, end)
        points = self._points(kpi_id, area, chosen, self.narrowing(filters, scope))
        return Series(kpi.id, kpi.name.vi, kpi.name.en, kpi.unit.vi, kpi.decimals, area, points)

    def indicator_flags(self, kpi_id: str, area: str) -> dict[date, str]:
        """The source's status flag per period start of an indicator KPI ('provisional' → "Sơ bộ")."""
        kpi = self.library.get(kpi_id)
        if not isinstance(kpi, LatestKpi):
            return {}
        return self._lookup(
            ("flags", kpi_id, area),
            lambda c: lookups.indicator_flags(c, kpi.indicator, kpi.indicator_grain, area),
        )

    def breakdown(
        self,
        kpi_id: str,
        by: str,
        *,
        area: str,
        period: str | Period | None = None,
        filters: Mapping[str, Any] | None = None,
        scope: Scope = EVERYTHING,
        limit: int | None = None,
    ) -> BreakdownResult:
        """One KPI split by area, department, procedure, channel or category, ranked."""
        self._check_scope(scope, area)
        kpi = self.library.get(kpi_id)
        narrowing = self.narrowing(filters, scope)
        result = self.result(kpi_id, area=area, period=period, breakdown=by, narrowing=narrowing)
        ranked = tuple(result.rows)
        if by == "department" and scope.departments is not None:  # the engine lists every department
            ranked = tuple(row for row in ranked if row.key in scope.departments)
        return BreakdownResult(
            kpi_id=kpi.id,
            name_vi=kpi.name.vi,
            unit_vi=kpi.unit.vi,
            decimals=kpi.decimals,
            direction=kpi.direction,
            by=by,
            period=result.period,
            area=area,
            value=result.value,
            rows=ranked[:limit] if limit else ranked,
        )

    def compare(self, kpi_id: str, period: str | Period) -> Period:
        """The period a KPI's change is measured against (previous period or same period last year)."""
        kpi = self.library.get(kpi_id)
        return compare_period(parse_period(period), kpi.compare)

    # ------------------------------------------------------------------------------ rows and lineage

    def rows(
        self,
        kpi_id: str,
        *,
        area: str,
        period: str | Period | None = None,
        part: str = "value",
        filters: Mapping[str, Any] | None = None,
        after: str | None = None,
        limit: int = 50,
        sort: str | None = None,
        descending: bool = False,
        scope: Scope = EVERYTHING,
        with_total: bool = False,
    ) -> RowPage:
        """The fact rows a number counts, keyset-paged and sorted in SQL (drill-down, lineage, exports).
        `filters` narrow as for tiles (department, procedure, channel, category, severity); an `area`
        (or `org_unit_code`) filter, a clicked commune, replaces `area`."""
        narrowing, question = self._list_question(
            kpi_id, area, period, part, filters, sort, descending, scope
        )

        def read() -> RowPage:
            with self.engine.connect() as connection:
                listed = rows.list_query(connection, **question, after=after, limit=limit)
                return rows.page(connection, listed, with_total=with_total)

        if after is not None or limit > FIRST_PAGE_CACHED:  # deep pages and exports: read each time
            return read()
        # a list's first page, which most readers open, is cached as numbers are (a month's late
        # dossiers at 10M: a bitmap over the month's 250,000 finished ones, hundreds of ms)
        key = (part, narrowing, question["area_codes"], limit, sort, descending, with_total)
        return self._cached(("rows", kpi_id, question["area"], question["period"], *key), read, kpi_id=kpi_id)

    def rows_csv(
        self,
        kpi_id: str,
        *,
        columns: Sequence[str],
        area: str,
        period: str | Period | None = None,
        part: str = "value",
        filters: Mapping[str, Any] | None = None,
        sort: str | None = None,
        descending: bool = False,
        scope: Scope = EVERYTHING,
    ) -> CopyStream:
        """Every row of the list `rows` pages through (the same rows, order and scope) as CSV written
        by PostgreSQL: `columns` (list and label columns) in that order, times in the province's local
        time. The question is checked now (scope, sort); the COPY runs when the stream is iterated."""
        _narrowing, question = self._list_question(
            kpi_id, area, period, part, filters, sort, descending, scope
        )
        with self.engine.connect() as connection:
            listed = rows.list_query(connection, **question)
            sql = copy_sql(connection, csv_select(listed.statement, columns, self.settings.zone))
        return CopyStream(self.engine, sql)

    def _list_question(
        self,
        kpi_id: str,
        area: str,
        period: str | Period | None,
        part: str,
        filters: Mapping[str, Any] | None,
        sort: str | None,
        descending: bool,
        scope: Scope,
    ) -> tuple[Narrowing, dict[str, Any]]:
        """A list's narrowing and its question for :func:`rows.list_query` (the connection aside): the
        reader's scope checked, the filters made a narrowed library, the area scope as unit codes."""
        filters = dict(filters or {})
        area = str(filters.pop("area", None) or filters.pop("org_unit_code", None) or area)
        self._check_scope(scope, area)
        narrowing = self.narrowing(filters, scope)
        return narrowing, {
            "library": self.library_for(narrowing),
            "kpi_id": kpi_id,
            "period": self._period(period, self.library.get(kpi_id)),
            "area": area,
            "part": part,
            "sort": sort,
            "descending": descending,
            "now": self.clock(),
            "zone": self.settings.zone,
            "area_codes": None if scope.areas is None else self._areas_within(scope.areas),
        }

    def row_count(
        self,
        kpi_id: str,
        *,
        area: str,
        period: str | Period | None = None,
        part: str = "value",
        filters: Mapping[str, Any] | None = None,
        scope: Scope = EVERYTHING,
    ) -> int | None:
        """How many rows a list has: `rows`' first page with its total, cached as numbers are (a count
        over millions of dossiers takes a second, and a list's total is asked at every visit)."""
        first = self.rows(
            kpi_id,
            area=area,
            period=period,
            part=part,
            filters=filters,
            scope=scope,
            limit=1,
            with_total=True,
        )
        return first.total

    def recent_runs(self, source: str, limit: int = 10) -> tuple[RunLine, ...]:
        """The newest runs of one source (the sources page)."""
        return self._lookup(("runs", source, limit), lambda c: recent_runs(c, (source,), per_source=limit))

    def rejections(self, source: str, limit: int = 20) -> list[lookups.Rejection]:
        """The newest rejected records' reasons of one source (never the records themselves)."""
        return self._lookup(("rejections", source, limit), lambda c: lookups.rejections(c, source, limit))

    def lineage(self, kpi_id: str, *, area: str, period: str | Period | None = None) -> Lineage:
        """What a number is, how it is computed, from which sources and runs, and as of when."""
        kpi = self.library.get(kpi_id)
        state = self.kpi_freshness(kpi)
        with self.engine.connect() as connection:
            return build_lineage(connection, self.library, kpi, state)

    def source_health(self) -> list[SourceStatus]:
        """Per configured source: last run, last success, data age, late or failing (from runs only)."""
        return self._cached(
            ("sources",), lambda: source_status(self.engine, self.settings, self.clock(), datasets=False)
        )

    # ------------------------------------------------------------------------------ lookups

    def _lookup(self, key: Hashable, read: Callable[[Connection], T]) -> T:
        def answer() -> T:
            with self.engine.connect() as connection:
                return read(connection)

        return self._cached(key, answer)

    def areas(self, parent: str | None = None) -> list[lookups.Option]:
        return self._lookup(("areas", parent), lambda c: lookups.areas(c, parent))

    def departments(self) -> list[lookups.Option]:
        return self._lookup(("departments",), lookups.departments)

    def procedures(self, department: str | None = None) -> list[lookups.Option]:
        return self._lookup(("procedures", department), lambda c: lookups.procedures(c, department))

    def area_name(self, code: str) -> str | None:
        return self._lookup(("area_name", code), lambda c: lookups.area_name(c, code))

    def kpis(self, domain: str | None = None) -> list[Kpi]:
        return self.library.in_domain(domain) if domain else list(self.library)

    # ------------------------------------------------------------------------------ scope

    def _check_scope(self, scope: Scope, area: str) -> None:
        """Staff scoped to areas may only ask about those areas (enforced here, not in pages)."""
        if scope.areas is not None and area not in self._areas_within(scope.areas):
            raise PermissionError(f"area {area!r} is outside this reader's scope")

    def _areas_within(self, roots: frozenset[str]) -> frozenset[str]:
        return self._lookup(("within", roots), lambda c: lookups.subtree(c, roots))


def moves_with_clock(library: KpiLibrary, kpi: Kpi) -> bool:
    """Whether a KPI's value changes with time alone: a snapshot measured at "now" (or built on one)."""
    if isinstance(kpi, FactKpi):
        return any(part.snapshot for part in kpi.parts().values())
    return any(moves_with_clock(library, library.get(ref)) for ref in kpi.references())
