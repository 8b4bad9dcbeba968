"""Keyset paging of the lists behind a number (`ioc.queries.rows`) on hand-built rows: equal and null
sort values, two sources, the rows still open and those closed after a past moment — every row of the
engine's selection once, in `(sort value, source, key)` order with nulls last (first descending), and
the open lists read from the open rows' index in their own order (no sort of every open dossier)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, text

from ioc.config import Settings
from ioc.kpi import KpiLibrary
from ioc.kpi.engine import compute
from ioc.kpi.selection import selection
from ioc.models import Dossier
from ioc.queries import ReadModel
from tests.test_kpi_engine import at, kdb, library  # noqa: F401  (fixtures)

DUE = at("2026-10-20", "17:00")  # shared by several rows of both sources


def _row(source: str, code: str, received: datetime, due: datetime | None, finished: datetime | None) -> dict:
    return {
        "source": source,
        "code": code,
        "org_unit_code": "66002" if code.endswith("2") else "66001",
        "channel": "online" if source == "a" else "postal",  # tells the sources apart in a list
        "received_at": received,
        "due_at": due,
        "finished_at": finished,
        "status": 10 if finished else 4,
        "department_code": "SYT" if code.startswith("o") else "SNV",
        "procedure_code": "P1",
    }


ROWS = [
    # open and overdue at the end of October, four of them due at the same instant
    *(_row(s, c, at("2026-10-05"), DUE, None) for s in ("a", "b") for c in ("o1", "o2")),
    _row("a", "o3", at("2026-10-05"), at("2026-10-23", "17:00"), None),
    _row("b", "o4", at("2026-10-06"), at("2026-10-09"), None),
    # open without a due date: never overdue nor due soon, sorted last (first descending)
    _row("a", "n1", at("2026-10-07"), None, None),
    _row("b", "n2", at("2026-10-07"), None, None),
    # open, due within three working days of Friday 30/10 (two at the same instant)
    _row("a", "s1", at("2026-10-26"), at("2026-11-02", "17:00"), None),
    *(_row(s, "s2", at("2026-10-27"), at("2026-11-03", "17:00"), None) for s in ("a", "b")),
    _row("b", "s3", at("2026-10-28"), at("2026-10-30", "17:00"), None),
    # finished in November: open (and overdue, or undated) at the end of October only
    _row("a", "f1", at("2026-10-01"), DUE, at("2026-11-10")),
    _row("b", "f2", at("2026-10-02"), None, at("2026-11-05")),
    _row("b", "f3", at("2026-10-02"), at("2026-10-12"), at("2026-11-04")),
    # finished in October, or received after the moment: in no snapshot list
    _row("a", "c1", at("2026-10-01"), DUE, at("2026-10-15")),
    _row("a", "l1", at("2026-11-03"), at("2026-11-04"), None),
]

LATE_OCTOBER = at("2026-10-30", "12:00")  # the lists as of now
NOVEMBER = at("2026-11-20", "12:00")  # October's lists measured at its end, a past moment


@pytest.fixture
def listed(kdb: Engine) -> Engine:  # noqa: F811
    with kdb.begin() as connection:
        connection.execute(insert(Dossier.__table__), ROWS)
    return kdb


def _walk(model: ReadModel, kpi: str, *, limit: int, **options: Any) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = model.rows(kpi, area="66", period="2026-10", limit=limit, after=after, **options)
        assert len(page.rows) <= limit
        seen += [(row["code"], row["channel"]) for row in page.rows]
        if page.next_after is None:
            return seen
        after = page.next_after


def _expected(
    engine: Engine,
    library: KpiLibrary,  # noqa: F811
    kpi: str,
    now: datetime,
    sort: str,
    descending: bool,
) -> list[tuple[str, str]]:
    """The engine's rows (its own conditions, not the list's branches), ordered in Python."""
    with engine.connect() as connection:
        sel = selection(connection, library, kpi, "2026-10", "66", now=now)
        table = sel.table
        columns = (table.c[sort], table.c.source, table.c.code, table.c.channel)
        rows = connection.execute(sel.select(*columns)).all()
    ordered = sorted(rows, key=lambda r: (r[0] is None, r[0] if r[0] is not None else 0, r[1], r[2]))
    if descending:
        ordered.reverse()
    return [(code, channel) for _value, _source, code, channel in ordered]


@pytest.mark.parametrize(
    ("kpi", "now", "sort"),
    [
        ("dossiers_open_overdue", LATE_OCTOBER, "due_at"),
        ("dossiers_open_overdue", NOVEMBER, "due_at"),
        ("dossiers_open_overdue", NOVEMBER, "finished_at"),  # nulls (still open) and November's
        ("dossiers_open_overdue", LATE_OCTOBER, "received_at"),
        ("dossiers_due_soon", LATE_OCTOBER, "due_at"),
        ("dossiers_due_soon", LATE_OCTOBER, "code"),
        ("dossiers_due_soon", LATE_OCTOBER, "received_at"),
        ("dossiers_due_soon", NOVEMBER, "finished_at"),
        ("dossiers_received", LATE_OCTOBER, "due_at"),  # null due dates among equal ones
        ("dossiers_received", LATE_OCTOBER, "finished_at"),
    ],
)
def test_every_row_once_in_order(
    listed: Engine,
    library: KpiLibrary,  # noqa: F811
    settings: Settings,
    kpi: str,
    now: datetime,
    sort: str,
) -> None:
    model = ReadModel(listed, library, settings, clock=lambda: now)
    count = compute(listed, library, kpi, "2026-10", "66", now=now).value
    for descending in (False, True):
        expected = _expected(listed, library, kpi, now, sort, descending)
        assert len(expected) == count and count > 2
        for limit in (1, 2, 3, 50):
            assert _walk(model, kpi, limit=limit, sort=sort, descending=descending) == expected, (
                descending,
                limit,
            )
    total = model.rows(kpi, area="66", period="2026-10", limit=1, sort=sort, with_total=True).total
    assert total == count


def test_overdue_lists_hold_the_hand_counted_rows(
    listed: Engine,
    library: KpiLibrary,  # noqa: F811
    settings: Settings,
) -> None:
    now = ReadModel(listed, library, settings, clock=lambda: LATE_OCTOBER)
    overdue = now.rows("dossiers_open_overdue", area="66", period="2026-10", sort="due_at", limit=50)
    assert [row["code"] for row in overdue.rows] == ["o4", "f3", "f1", "o1", "o2", "o1", "o2", "o3"]
    soon = now.rows("dossiers_due_soon", area="66", period="2026-10", sort="due_at", limit=50)
    assert [row["code"] for row in soon.rows] == ["s3", "s1", "s2", "s2"]
    past = ReadModel(listed, library, settings, clock=lambda: NOVEMBER)
    by_finish = past.rows(
        "dossiers_open_overdue", area="66", period="2026-10", sort="finished_at", descending=True, limit=4
    )
    assert [row["code"] for row in by_finish.rows] == ["s3", "o4", "o2", "o1"]  # open ones first
    commune = past.rows(
        "dossiers_open_overdue", area="66", period="2026-10", sort="due_at", filters={"area": "66002"}
    )
    assert [row["code"] for row in commune.rows] == ["o2", "o2"]
    department = past.rows(
        "dossiers_open_overdue",
        area="66",
        period="2026-10",
        sort="due_at",
        filters={"department_code": "SNV"},
    )
    assert [row["code"] for row in department.rows] == ["f3", "f1", "s3"]


@pytest.mark.parametrize(
    ("kpi", "sort", "index"),
    [
        ("dossiers_open_overdue", "due_at", "ix_dossier_open_due"),
        ("dossiers_due_soon", "due_at", "ix_dossier_open_due"),
        ("dossiers_open_overdue", "received_at", "ix_dossier_open_received"),
        ("dossiers_due_soon", "received_at", "ix_dossier_open_received"),  # due_at checked in it
    ],
)
def test_open_lists_read_the_open_index_in_order(
    listed: Engine,
    library: KpiLibrary,  # noqa: F811
    settings: Settings,
    kpi: str,
    sort: str,
    index: str,
) -> None:
    """With sorts priced out, each list's plan reads an open rows' index in the list's order, page 1
    and a later page: ordered by `coalesce(due_at, …)` (before) no index could give the order."""
    model = ReadModel(listed, library, settings, clock=lambda: LATE_OCTOBER)
    first = model.rows(kpi, area="66", period="2026-10", sort=sort, limit=2)
    assert first.next_after is not None
    for after in (None, first.next_after):
        model.cache.clear()  # a first page is cached: read it again
        plan = _plan(
            listed,
            lambda after=after: model.rows(kpi, area="66", period="2026-10", sort=sort, limit=2, after=after),
        )
        assert _read_in_order(plan, index), plan


def test_rows_closed_after_a_past_moment_are_found_by_the_finished_index(
    listed: Engine,
    library: KpiLibrary,  # noqa: F811
    settings: Settings,
) -> None:
    """October's overdue list seen in November: the rows finished since October's end are read by
    `finished_at > moment` (received_at and due_at checked in the index), never by walking another
    index in the list's order (at 10M that walk met them after 40 s)."""
    model = ReadModel(listed, library, settings, clock=lambda: NOVEMBER)
    for sort in ("received_at", "due_at"):
        plan = _plan(
            listed,
            lambda sort=sort: model.rows("dossiers_open_overdue", area="66", period="2026-10", sort=sort),
        )
        assert "using ix_dossier_finished_at_received_at_due_at on" in plan, plan
        assert "using ix_dossier_received_at on" not in plan, plan


def _plan(engine: Engine, read: Callable[[], object]) -> str:
    """EXPLAIN of the last statement `read` runs, with sequential and bitmap scans priced out."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = statements[-1]
    with engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        connection.execute(text("SET enable_bitmapscan = off"))
        raw = connection.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN " + statement, parameters)
            return "\n".join(line for (line,) in cursor.fetchall())


def _read_in_order(plan: str, index: str) -> bool:
    """The index is scanned, and every scan of it is the direct child of a Limit (no Sort between)."""
    nodes = [(line.find("->"), line) for line in plan.splitlines() if "->" in line]
    scans = [i for i, (_, line) in enumerate(nodes) if f"Index Scan using {index} " in line]

    def parent(i: int) -> str:
        return next(line for depth, line in reversed(nodes[:i]) if depth < nodes[i][0])

    return bool(scans) and all("Limit" in parent(i) for i in scans)
