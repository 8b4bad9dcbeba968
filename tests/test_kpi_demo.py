"""Every shipped KPI computes on the demo province (the demo connector, run by the real runner).

Skipped while `connectors.demo` does not exist yet (it is written in parallel with the engine).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ioc.config import load_settings
from ioc.kpi import Kpi, KpiLibrary, load_library
from ioc.kpi import rollup as rollups
from ioc.kpi.engine import compute
from ioc.kpi.periods import LOCAL_TZ, current
from ioc.kpi.spec import FactKpi

REPO_ROOT = Path(__file__).resolve().parent.parent


def _last_complete(grain: str, today: date) -> str:
    """The last period of `grain` that has ended (a month: the previous month); day and week KPIs
    use the last month too, as a small demo has days without any incident."""
    grain = "month" if grain in ("day", "week") else grain
    return current(grain, current(grain, today).start - timedelta(days=1)).label


def _published_by(today: date) -> date:
    """A day whose last complete period the demo's statistics have published: a period is published
    on the PUBLICATION_DAY of the following month, so on 1–5 December November has no figures yet."""
    from connectors.demo.indicators import PUBLICATION_DAY

    return today - timedelta(days=PUBLICATION_DAY)


@pytest.fixture
def demo_db(db: Engine, tmp_path: Path) -> Engine:
    pytest.importorskip("connectors.demo", reason="the demo connector is not written yet")
    from ioc.runner import run_source

    config = tmp_path / "config.yaml"
    config.write_text(
        "province:\n  code: '66'\n"
        f"kpi_dir: {REPO_ROOT / 'kpi_definitions'}\n"
        f"drop_dir: {tmp_path / 'drop'}\n"
        "demo:\n  scale: 0.02\n  years: 2\n"
        "sources:\n  demo:\n    connector: demo\n",
        encoding="utf-8",
    )
    settings = load_settings(config)
    with db.begin() as connection:
        rollups.clear(connection)
    summary = run_source(db, settings, "demo", full=True)
    assert summary.ok, summary
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM org_unit WHERE code = '66'")).scalar() == 1
    return db


def _indicators(library: KpiLibrary, kpi: Kpi) -> set[str]:
    if kpi.type == "latest":
        return {kpi.indicator or ""}
    return set().union(*(_indicators(library, library.get(ref)) for ref in kpi.references()))


def test_every_shipped_kpi_computes_on_the_demo_province(demo_db: Engine) -> None:
    """A value for every KPI, except "no data" where the demo left a cell of an input series
    missing ('..'): a missing value stays missing, it is never read as 0."""
    library = load_library(REPO_ROOT / "kpi_definitions")
    today = datetime.now(LOCAL_TZ).date()
    with demo_db.connect() as connection:
        gaps = set(
            connection.execute(
                text("SELECT DISTINCT indicator FROM indicator_observation WHERE value IS NULL")
            )
            .scalars()
            .all()
        )
    unexplained = []
    for kpi in library:
        period = _last_complete(kpi.grain, _published_by(today) if _indicators(library, kpi) else today)
        result = compute(demo_db, library, kpi.id, period, "66")
        if result.value is None and not (_indicators(library, kpi) & gaps):
            unexplained.append(f"{kpi.id} {period}")
        for breakdown in kpi.breakdowns:
            rows = compute(demo_db, library, kpi.id, period, "66", breakdown).rows
            assert rows, f"{kpi.id} by {breakdown}: no rows"
    assert unexplained == []
    headline = {
        kpi.id: compute(demo_db, library, kpi.id, _last_complete(kpi.grain, today), "66")
        for kpi in library.headline()
    }
    assert all(result.value is not None for result in headline.values()), headline


def test_rollups_agree_on_the_demo_province(demo_db: Engine) -> None:
    """Every dossier/incident KPI at the last complete period and this one, with a breakdown: the
    rollup path gives the facts' numbers at the same fixed `now` (after the refresh, so the snapshot
    rollups are used too)."""
    library = load_library(REPO_ROOT / "kpi_definitions")
    now = datetime.now(LOCAL_TZ) + timedelta(hours=1)
    with demo_db.begin() as connection:
        rollups.refresh(connection)
    used = set()
    for kpi in library:
        if not isinstance(kpi, FactKpi):
            continue
        for period in (_last_complete(kpi.grain, now.date()), current(kpi.grain, now.date()).label):
            for breakdown in (None, *kpi.breakdowns[:1]):
                raw = compute(demo_db, library, kpi.id, period, "66", breakdown, use_rollups=False, now=now)
                fast = compute(demo_db, library, kpi.id, period, "66", breakdown, now=now)
                question = (kpi.id, period, breakdown)
                assert raw.path != "rollup", question
                assert fast.value == pytest.approx(raw.value), question
                assert {r.key: r.value for r in fast.rows} == pytest.approx(
                    {r.key: r.value for r in raw.rows}
                ), question
                if fast.path == "rollup":
                    used.add(kpi.id)
    assert used == {
        "dossiers_received",
        "dossiers_finished",
        "dossiers_on_time_rate",
        "dossiers_finished_late",
        "dossiers_open_overdue",
        "dossiers_due_soon",
        "dossiers_online_rate",
        "dossiers_avg_processing_days",
        "incidents_new",
        "incidents_closed",
        "incident_close_rate",
        "incidents_open_overdue",
        "incidents_closed_on_time_rate",
        "traffic_accidents",
    }
