"""The read model (`ioc.queries`) on the engine tests' known October 2026 dataset.

Hand-computed from that table (tests/test_kpi_engine.py): 8 dossiers received in October in the
province (d5 came on 28/09), 1 in September; d3 and d4 (Sở Y tế) are open; the online ones are d1,
d4, d8, d9 (d5 is September's).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, event, text

from dashboard.app import read_models
from ioc import runs
from ioc.config import Settings
from ioc.database import Database
from ioc.kpi import KpiLibrary
from ioc.kpi.engine import compute
from ioc.queries import NarrowingError, ReadModel, RowQueryError, Scope
from tests.test_kpi_engine import at, dossiers, kdb, library  # noqa: F401  (fixtures)

NOW = at("2026-10-31", "12:00")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def record_run(engine: Engine, status: str, *, source: str = "igate", connector: str = "dossiers") -> int:
    with engine.begin() as connection:
        run_id = runs.start_run(connection, source=source, connector=connector, full=False, cursor=None)
        runs.finish_run(connection, run_id, status=status, error="HTTP 500" if status == "failed" else None)
    return run_id


@pytest.fixture
def model(dossiers: Engine, library: KpiLibrary, settings: Settings, clock: Clock) -> ReadModel:  # noqa: F811
    return ReadModel(dossiers, library, settings, clock=clock)


class StatementCounter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        self.count += 1


def test_tiles_match_the_engine_and_hand_counts(model: ReadModel, library: KpiLibrary) -> None:  # noqa: F811
    record_run(model.engine, "success")
    tiles = model.tiles(["dossiers_received", "dossiers_on_time_rate"], area="66", period="2026-10")
    received = tiles["dossiers_received"]
    assert received.value == 8 and received.previous == 1 and received.delta == 7
    raw = compute(model.engine, library, "dossiers_on_time_rate", "2026-10", "66", use_rollups=False, now=NOW)
    assert tiles["dossiers_on_time_rate"].value == pytest.approx(raw.value)
    assert received.value_text() == "8 hồ sơ"
    assert received.freshness == "fresh" and received.sources == ("igate",)
    assert received.sparkline[-2:] == (1.0, 8.0) and len(received.sparkline) == 12


def test_no_data_is_said_in_words_never_with_a_unit(model: ReadModel) -> None:
    record_run(model.engine, "success")
    tiles = model.tiles(["dossiers_on_time_rate", "dossiers_received"], area="66", period="2026-12")
    assert tiles["dossiers_on_time_rate"].value is None  # December has not come yet
    assert tiles["dossiers_on_time_rate"].value_text() == "Không có dữ liệu"
    assert (
        tiles["dossiers_received"].value is None
        and tiles["dossiers_received"].value_text() == "Không có dữ liệu"
    )


def test_freshness_follows_runs_stale_and_failed(model: ReadModel, clock: Clock) -> None:
    assert model.tiles(["dossiers_received"], area="66", period="2026-10")["dossiers_received"].freshness == (
        "never_loaded"
    )
    record_run(model.engine, "success")
    tile = model.tiles(["dossiers_received"], area="66", period="2026-10")["dossiers_received"]
    assert tile.freshness == "fresh" and tile.data_as_of is not None
    clock.now = tile.data_as_of + timedelta(days=2)  # dossiers_received expects daily data
    tile = model.tiles(["dossiers_received"], area="66", period="2026-10")["dossiers_received"]
    assert tile.freshness == "stale" and tile.data_age > timedelta(days=1)
    record_run(model.engine, "failed")
    tile = model.tiles(["dossiers_received"], area="66", period="2026-10")["dossiers_received"]
    assert tile.freshness == "failed" and tile.failed_sources == ("igate",)
    assert "igate" in tile.freshness_note()


def test_answers_are_cached_by_data_version(model: ReadModel) -> None:
    record_run(model.engine, "success")
    model.tiles(["dossiers_received", "dossiers_open_overdue"], area="66", period="2026-10")
    with StatementCounter(model.engine) as counter:
        again = model.tiles(["dossiers_received", "dossiers_open_overdue"], area="66", period="2026-10")
    assert counter.count == 1  # the data-version probe only
    version = model.data_version()
    record_run(model.engine, "success")
    assert model.data_version() != version
    with StatementCounter(model.engine) as counter:
        fresh = model.tiles(["dossiers_received", "dossiers_open_overdue"], area="66", period="2026-10")
    assert counter.count > 1
    assert fresh["dossiers_received"].value == again["dossiers_received"].value


def test_series_is_one_point_per_period(model: ReadModel) -> None:
    series = model.series("dossiers_received", area="66", count=3, end="2026-10")
    assert [(p.period, p.value) for p in series.points] == [
        ("2026-08", 0.0),
        ("2026-09", 1.0),
        ("2026-10", 8.0),
    ]


def test_rows_are_keyset_paged_in_order_without_repeats(model: ReadModel) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = model.rows("dossiers_received", area="66", period="2026-10", limit=3, after=after)
        seen += [row["code"] for row in page.rows]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == 3 and sorted(seen) == ["d1", "d2", "d3", "d4", "d6", "d7", "d8", "d9"]
    assert seen == ["d1", "d2", "d8", "d3", "d9", "d7", "d6", "d4"]  # by received_at
    newest_first = model.rows("dossiers_received", area="66", period="2026-10", descending=True, limit=2)
    assert [row["code"] for row in newest_first.rows] == ["d4", "d6"]
    assert "applicant" not in " ".join(page.columns) and "procedure_name" in page.columns


def test_rows_filters_and_scope(model: ReadModel) -> None:
    online = model.rows("dossiers_received", area="66", period="2026-10", filters={"channel": "online"})
    assert sorted(row["code"] for row in online.rows) == ["d1", "d4", "d8", "d9"]
    scoped = model.rows(
        "dossiers_received", area="66", period="2026-10", scope=Scope(departments=frozenset({"SYT"}))
    )
    assert sorted(row["code"] for row in scoped.rows) == ["d3", "d4", "d6"]
    with pytest.raises(NarrowingError):
        model.rows("dossiers_received", area="66", period="2026-10", filters={"applicant_name": "x"})
    with pytest.raises(RowQueryError):
        model.rows("dossiers_received", area="66", period="2026-10", sort="applicant_name")
    with pytest.raises(PermissionError):
        model.rows("dossiers_received", area="66", period="2026-10", scope=Scope(areas=frozenset({"66002"})))
    commune = model.rows("dossiers_received", area="66", period="2026-10", filters={"org_unit_code": "66002"})
    assert sorted(row["code"] for row in commune.rows) == ["d6", "d7"]
    by_column = model.rows(
        "dossiers_received", area="66", period="2026-10", filters={"department_code": "SYT"}
    )
    assert sorted(row["code"] for row in by_column.rows) == ["d3", "d4", "d6"]
    own = model.rows(
        "dossiers_received", area="66002", period="2026-10", scope=Scope(areas=frozenset({"66002"}))
    )
    assert sorted(row["code"] for row in own.rows) == ["d6", "d7"]


def test_lineage_says_what_how_and_from_which_runs(model: ReadModel) -> None:
    run_id = record_run(model.engine, "success")
    lineage = model.lineage("dossiers_on_time_rate", area="66", period="2026-10")
    assert "Tử số" in lineage.formula_vi and "Ngày kết thúc xử lý" in lineage.formula_vi
    assert "Kết thúc đúng hạn" in lineage.formula_vi
    assert [run.run_id for run in lineage.runs] == [run_id] and lineage.sources == ("igate",)
    assert lineage.legal_source and "766" in lineage.legal_source


def test_breakdown_and_scope_by_department(model: ReadModel) -> None:
    result = model.breakdown("dossiers_received", "department", area="66", period="2026-10")
    assert {row.key: row.value for row in result.rows} == {"SNV": 5.0, "SYT": 3.0}
    scoped = model.breakdown(
        "dossiers_received",
        "department",
        area="66",
        period="2026-10",
        scope=Scope(departments=frozenset({"SYT"})),
    )
    assert [row.key for row in scoped.rows] == ["SYT"] and scoped.value == 3  # the total is theirs too


def test_filters_and_department_scope_narrow_every_number(model: ReadModel) -> None:
    syt = model.tiles(["dossiers_received"], area="66", period="2026-10", filters={"department": "SYT"})
    assert syt["dossiers_received"].value == 3  # d3, d4, d6
    online = model.tiles(["dossiers_received"], area="66", period="2026-10", filters={"channel": ["online"]})
    assert online["dossiers_received"].value == 4  # d1, d4, d8, d9
    staff = Scope(departments=frozenset({"SYT"}))
    mine = model.tiles(
        ["dossiers_received", "dossiers_on_time_rate"], area="66", period="2026-10", scope=staff
    )
    assert mine["dossiers_received"].value == 3
    assert mine["dossiers_on_time_rate"].value == pytest.approx(100.0)  # d6 finished on its due minute
    series = model.series("dossiers_received", area="66", count=2, end="2026-10", scope=staff)
    assert [point.value for point in series.points] == [0.0, 3.0]
    with pytest.raises(PermissionError):
        model.tiles(
            ["dossiers_received"], area="66", period="2026-10", filters={"department": "SNV"}, scope=staff
        )


def test_only_snapshot_kpis_are_recomputed_as_the_clock_moves(model: ReadModel, clock: Clock) -> None:
    record_run(model.engine, "success")
    as_of = model.tiles(["dossiers_received"], area="66", period="2026-10", sparkline=0)["dossiers_received"]
    assert as_of.data_as_of is not None
    clock.now = as_of.data_as_of + timedelta(minutes=1)
    first = model.tiles(["dossiers_received"], area="66", period="2026-10", sparkline=0)["dossiers_received"]
    clock.now += timedelta(minutes=5)
    with StatementCounter(model.engine) as counter:
        later = model.tiles(["dossiers_received"], area="66", period="2026-10", sparkline=0)
    assert counter.count == 1  # the data-version probe: a count changes only with a load
    assert later["dossiers_received"].data_age == first.data_age + timedelta(minutes=5)  # age is live
    model.tiles(["dossiers_open_overdue"], area="66", period="2026-10", sparkline=0)
    clock.now += timedelta(minutes=1)
    with StatementCounter(model.engine) as counter:
        model.tiles(["dossiers_open_overdue"], area="66", period="2026-10", sparkline=0)
    assert counter.count > 1  # "overdue now" is measured again a minute later


def test_a_refreshed_model_reads_the_data_version_once_per_tick(
    dossiers: Engine,  # noqa: F811
    library: KpiLibrary,  # noqa: F811
    settings: Settings,
    clock: Clock,
) -> None:
    """The desktop's model (web.desk_refresh = 180 s): a load within a tick changes nothing it shows;
    the next tick shows it, with every answer of that tick for the same version."""
    desk = ReadModel(
        dossiers, library, settings, clock=clock, version_ttl=180, clock_bucket=timedelta(seconds=180)
    )
    clock.now = datetime.fromtimestamp(180 * (NOW.timestamp() // 180) + 10, NOW.tzinfo)
    record_run(desk.engine, "success")
    before = desk.data_version()
    received = desk.tiles(["dossiers_received"], area="66", period="2026-10")["dossiers_received"].value
    with desk.engine.begin() as connection:
        moved = {"t": at("2026-10-01", "08:00")}  # d5 came on 28/09: now it is October's ninth
        connection.execute(text("UPDATE dossier SET received_at = :t WHERE code = 'd5'"), moved)
    record_run(desk.engine, "success")
    clock.now += timedelta(seconds=160)  # same tick: the version read at its start is kept
    assert desk.data_version() == before
    assert (
        desk.tiles(["dossiers_received"], area="66", period="2026-10")["dossiers_received"].value == received
    )
    clock.now += timedelta(seconds=20)  # the next tick
    assert desk.data_version() != before
    after = desk.tiles(["dossiers_received"], area="66", period="2026-10")["dossiers_received"].value
    assert (received, after) == (8, 9)


def test_a_write_past_the_runner_changes_the_data_version(model: ReadModel) -> None:
    version = model.data_version()
    with model.engine.begin() as connection:
        connection.execute(
            text("UPDATE dossier SET finished_at = received_at + interval '1 day' WHERE code = 'd3'")
        )
    assert model.data_version() != version


def test_the_desk_refreshes_as_configured_and_the_wall_follows_every_load(
    dossiers: Engine,  # noqa: F811
    settings: Settings,
) -> None:
    database = Database(url="unused", engine=dossiers, read_engine=dossiers)
    web = settings.web.model_copy(update={"desk_refresh": 180})
    desk, wall = read_models(settings.model_copy(update={"web": web}), database)
    assert (desk.version_ttl, desk.clock_bucket, desk.cache.stale_for) == (180, timedelta(seconds=180), 180)
    assert (wall.version_ttl, wall.clock_bucket, wall.cache.stale_for) == (1.0, timedelta(minutes=1), 120)
    assert desk.cache is not wall.cache
    shipped, _ = read_models(settings, database)  # default: the desk follows every load too
    assert (shipped.version_ttl, shipped.clock_bucket) == (1.0, timedelta(minutes=1))
