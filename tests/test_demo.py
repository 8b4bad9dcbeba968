"""The demo connector: deterministic, realistic in shape, free of personal data, idempotent to load."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from connectors.demo import DemoConnector, DemoData, build_demo
from connectors.demo import dossiers as demo_dossiers
from connectors.demo import incidents as demo_incidents
from connectors.demo.catalogue import DEPARTMENTS, FIELDS
from connectors.demo.province import DemoProvince
from connectors.demo.timeline import Timeline
from ioc.areas import PROVINCE_GEO
from ioc.config import Settings
from ioc.connector import PERSONAL_FIELDS, ConnectorContext, connector_class
from ioc.load import LoadResult, load_batch
from ioc.workdays import WorkCalendar

AS_OF = date(2026, 11, 23)
TZ = "Asia/Ho_Chi_Minh"
NOW = pd.Timestamp(AS_OF, tz=TZ)
OPEN_STATUSES = {1, 2, 4, 5, 6}

INDICATORS = {
    "grdp_growth": ({"quarter", "year"}, "province"),
    "budget_revenue": ({"month"}, "province"),
    "budget_revenue_plan": ({"year"}, "province"),
    "iip": ({"month"}, "province"),
    "retail_sales": ({"month"}, "province"),
    "exports": ({"month"}, "province"),
    "cpi": ({"month"}, "province"),
    "fdi_registered": ({"month"}, "province"),
    "poverty_rate": ({"year"}, "both"),
    "vneid_level2": ({"month"}, "communes"),
    "vneid_target": ({"year"}, "communes"),
    "dvc_accounts": ({"month"}, "communes"),
}


@pytest.fixture
def demo(settings: Settings) -> DemoData:
    return build_demo(settings, as_of=AS_OF)


def _frames(data: DemoData) -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(getattr(data, name)) for name in DemoData.TABLES}


def test_same_seed_gives_the_same_province(settings: Settings, demo: DemoData) -> None:
    again = build_demo(settings, as_of=AS_OF)
    for name, frame in _frames(demo).items():
        pd.testing.assert_frame_equal(frame, _frames(again)[name], obj=name)
    other = build_demo(settings, as_of=AS_OF, seed=settings.demo.seed + 1)
    assert not demo.dossier["procedure_code"].equals(other.dossier["procedure_code"])


def test_a_later_snapshot_keeps_past_events_and_moves_only_their_status(
    settings: Settings, demo: DemoData
) -> None:
    later = build_demo(settings, as_of=AS_OF + timedelta(days=7))
    merged = demo.dossier.merge(later.dossier, on="code", suffixes=("", "_later"))
    assert len(merged) > 0.9 * len(demo.dossier)
    for column in ("procedure_code", "department_code", "org_unit_code", "channel", "received_at", "due_at"):
        assert merged[column].equals(merged[f"{column}_later"]), column
    done = merged["status"].isin([3, 7, 8, 9, 10])
    assert merged.loc[done, "finished_at"].equals(merged.loc[done, "finished_at_later"])
    assert (merged["status"] != merged["status_later"]).sum() > 0  # some open dossiers finished


def test_volume_scales_and_reaches_300000_at_scale_one(settings: Settings, demo: DemoData) -> None:
    full = Timeline.build(AS_OF, 3, settings.calendar)
    assert demo_dossiers.daily_rates(full, 1.0).sum() >= 300_000
    doubled = build_demo(settings, as_of=AS_OF, scale=2 * settings.demo.scale)
    assert 1.8 < len(doubled.dossier) / len(demo.dossier) < 2.2
    assert 1.7 < len(doubled.incident) / len(demo.incident) < 2.3
    # settings: scale 0.02, one year → about 430 × 0.02 × 250 working days
    assert 1_800 < len(demo.dossier) < 4_000


def test_dossiers_have_the_dvcqg_shape(demo: DemoData) -> None:
    d = demo.dossier
    assert list(d.columns) == list(demo_dossiers.COLUMNS)
    assert d["code"].is_unique
    assert set(d["channel"]) == {"online", "in_person", "postal"}
    assert {3, 7, 8, 9, 10} <= set(d["status"]) and set(d["status"]) & OPEN_STATUSES
    for column in ("received_at", "due_at", "finished_at", "returned_at"):
        assert str(d[column].dt.tz) == TZ
    assert (d["received_at"] < NOW).all()
    assert d["received_at"].min() >= pd.Timestamp(AS_OF - timedelta(days=366), tz=TZ)
    is_open = d["status"].isin(OPEN_STATUSES)
    assert d.loc[is_open, "finished_at"].isna().all() and d.loc[~is_open, "finished_at"].notna().all()
    assert (d.loc[~is_open, "finished_at"] >= d.loc[~is_open, "received_at"]).all()
    assert (d.loc[~is_open, "finished_at"] <= NOW).all()
    assert d["returned_at"].notna().equals(d["status"] == 10)
    overdue = is_open & (d["due_at"] < NOW)
    assert overdue.sum() > 0
    finished = d[d["status"].isin([9, 10])]
    on_time = (finished["finished_at"] <= finished["due_at"]).mean()
    assert 0.8 < on_time < 0.99
    by_department = finished.groupby("department_code").apply(
        lambda g: (g["finished_at"] <= g["due_at"]).mean(), include_groups=False
    )
    assert by_department.max() - by_department.min() > 0.1
    quarter = d["received_at"].dt.tz_localize(None).dt.to_period("Q")
    online = (d["channel"] == "online").groupby(quarter).mean()
    assert online.iloc[-1] > online.iloc[0]
    assert (d["supplement_count"] > 0).any()


def test_mostly_received_on_working_days(settings: Settings, demo: DemoData) -> None:
    calendar = WorkCalendar.from_config(settings.calendar, [2025, 2026])
    working = demo.dossier["received_at"].dt.date.map(calendar.is_working_day)
    assert 0.9 < working.mean() < 1.0
    assert (demo.dossier.loc[~working, "channel"] == "online").all()


def test_deadlines_count_working_days_across_tet(settings: Settings, demo: DemoData) -> None:
    procedures = demo.procedure.set_index("code")["processing_days"]
    d = demo.dossier.assign(days=demo.dossier["procedure_code"].map(procedures))
    calendar = WorkCalendar.from_config(settings.calendar, [2025, 2026, 2027])
    sample = d[d["days"] > 0]
    expected = [
        calendar.deadline(r.date(), n) for r, n in zip(sample["received_at"], sample["days"], strict=True)
    ]
    assert (sample["due_at"].dt.date == pd.Series(expected, index=sample.index)).all()
    # date-only deadlines, stored as the end of the local day
    assert d["due_date_only"].all()
    assert (d["due_at"].dt.strftime("%H:%M:%S.%f") == "23:59:59.999999").all()
    # received on a day off: counted from the next working day, one working day later than from receipt
    off = sample[~sample["received_at"].dt.date.map(calendar.is_working_day)]
    assert len(off) > 0
    from_receipt = [
        calendar.add_working_days(r.date(), n) for r, n in zip(off["received_at"], off["days"], strict=True)
    ]
    assert (off["due_at"].dt.date > pd.Series(from_receipt, index=off.index)).all()
    # Tết 2026: holidays 16–20 February. Received in the week before (9–13 February) with more
    # working days than are left in that week, a dossier is due on 23 February or later.
    week = sample[sample["received_at"].dt.date.between(date(2026, 2, 9), date(2026, 2, 13))]
    crossing = week[week["days"] > 13 - week["received_at"].dt.day]
    assert len(crossing) > 0
    assert (crossing["due_at"].dt.date >= date(2026, 2, 23)).all()
    assert not d["due_at"].dt.date.map(calendar.is_working_day).eq(False).any()


def test_no_personal_data_anywhere(demo: DemoData) -> None:
    for name, frame in _frames(demo).items():
        assert not set(frame.columns) & PERSONAL_FIELDS, name
        lowered = {c.lower() for c in frame.columns}
        assert not lowered & {"applicant", "applicant_name", "phone", "email", "address", "chuhoso"}, name


def test_reference_data_hangs_together(demo: DemoData) -> None:
    units = {u["code"] for u in demo.org_unit}
    departments = set(demo.department["code"])
    assert len(DEPARTMENTS) >= 25 and len(departments) == len(DEPARTMENTS) + 102
    assert set(demo.department.loc[demo.department["kind"] == "xa", "org_unit_code"]) == units - {"66"}
    assert 250 <= len(demo.procedure) <= 350 and demo.procedure["code"].is_unique
    assert demo.procedure["code"].str.fullmatch(r"[12]\.\d{6}").all()
    assert set(demo.procedure["department_code"]) <= departments
    assert demo.procedure["processing_days"].between(0, 30).all()
    assert set(demo.procedure["field"]) == {f.name for f in FIELDS}
    assert set(demo.dossier["procedure_code"]) <= set(demo.procedure["code"])
    assert set(demo.dossier["department_code"]) <= departments
    assert set(demo.dossier["org_unit_code"]) <= units
    assert set(demo.incident["org_unit_code"]) <= units


def test_incidents(demo: DemoData) -> None:
    i = demo.incident
    assert set(i["category"]) == {"field_report", "traffic_accident", "public_order", "infosec", "fire"}
    assert i["external_id"].is_unique and i["external_id"].map(type).eq(str).all()
    box = PROVINCE_GEO[66]
    assert (
        i["lat"].between(box.lat_min, box.lat_max).all() and i["lon"].between(box.lon_min, box.lon_max).all()
    )
    assert i["severity"].between(1, 3).all()
    assert i["closed_at"].notna().equals(i["status"] == "closed")
    assert (
        i.loc[i["status"] == "closed", "closed_at"] >= i.loc[i["status"] == "closed", "reported_at"]
    ).all()
    reports = i[i["category"] == "field_report"]
    assert reports["due_at"].notna().all() and i.loc[i["category"] == "fire", "due_at"].isna().all()
    assert str(i["reported_at"].dt.tz) == TZ


def test_incident_rhythms(settings: Settings, demo: DemoData) -> None:
    """At full scale (incidents only, one year): accidents peak at weekends and in the evening."""
    province = DemoProvince.build(demo.org_unit, "66", settings.demo.seed, 1.0)
    i = demo_incidents.generate(province, Timeline.build(AS_OF, 1, settings.calendar))
    assert 5_000 < len(i) < 12_000
    accidents = i[i["category"] == "traffic_accident"]
    weekend = accidents["reported_at"].dt.day_of_week >= 5
    assert weekend.sum() / 2 > (~weekend).sum() / 5  # more per weekend day than per weekday
    evening = accidents["reported_at"].dt.hour.between(17, 22)
    assert evening.mean() > 6 / 24 * 1.3
    fires = i[i["category"] == "fire"]["reported_at"].dt.month
    assert fires.between(1, 4).mean() > 0.5  # dry season in the Central Highlands
    open_reports = i[(i["category"] == "field_report") & (i["status"] == "open")]
    assert (open_reports["due_at"] < NOW).any()


def test_indicators_use_the_agreed_codes(demo: DemoData) -> None:
    obs = demo.indicator_observation
    assert set(obs["indicator"]) == set(INDICATORS)
    for code, (grains, where) in INDICATORS.items():
        series = obs[obs["indicator"] == code]
        assert set(series["grain"]) == grains, code
        province = series["org_unit_code"] == "66"
        if where == "province":
            assert province.all(), code
        elif where == "communes":
            assert not province.any() and series["org_unit_code"].nunique() == 102, code
        else:
            assert province.any() and series["org_unit_code"].nunique() == 103, code
    missing = obs["value"].isna()
    assert missing.any() and (obs.loc[missing, "status"] == "..").all()
    latest = obs[obs["indicator"] == "cpi"].sort_values("period_start").iloc[-1]
    assert latest["status"] == "provisional" and latest["period"] == "2026-10"
    quarters = obs[(obs["indicator"] == "grdp_growth") & (obs["grain"] == "quarter")]
    assert quarters["period"].str.fullmatch(r"\d{4}-Q[1-4]").all()
    cpi = obs.loc[obs["indicator"] == "cpi", "value"].dropna()
    assert cpi.between(100, 106).all()
    vneid = obs[(obs["indicator"] == "vneid_level2")].dropna(subset=["value"])
    assert (vneid.sort_values("period_start").groupby("org_unit_code")["value"].diff().dropna() >= 0).all()


def test_connector_loads_twice_with_no_changes_the_second_time(db: Engine, settings: Settings) -> None:
    assert connector_class("demo") is DemoConnector
    context = ConnectorContext(source="demo", settings=settings, http=None)  # type: ignore[arg-type]
    connector = DemoConnector(DemoConnector.Options.model_validate({"as_of": AS_OF.isoformat()}), context)
    assert connector.check().ok

    def run() -> dict[str, LoadResult]:
        totals: dict[str, LoadResult] = {}
        tables = []
        for batch in connector.read(None):
            assert batch.cursor == {"as_of": datetime(2026, 11, 23).isoformat()}
            tables.append(batch.table)
            with db.begin() as connection:
                totals.setdefault(batch.table, LoadResult())
                totals[batch.table] += load_batch(connection, batch.table, batch.records, source="demo")
        assert list(dict.fromkeys(tables)) == list(DemoConnector.targets)
        return totals

    first = run()
    assert all(r.rejected == 0 and r.inserted == r.read for r in first.values()), first
    second = run()
    assert all(r.changed == 0 and r.rejected == 0 and r.unchanged == r.read for r in second.values()), second
    with db.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM dossier WHERE source = 'demo'")).scalar()
        overdue = connection.execute(
            text("SELECT count(*) FROM dossier WHERE finished_at IS NULL AND due_at < :now"), {"now": NOW}
        ).scalar()
    assert stored == first["dossier"].read and overdue > 0


def test_options_default_to_settings(settings: Settings) -> None:
    context = ConnectorContext(source="demo", settings=settings, http=None)  # type: ignore[arg-type]
    connector = DemoConnector(DemoConnector.Options(), context)
    assert connector._options() == {"seed": 20251, "scale": 0.02, "years": 1, "as_of": None}
    rates = demo_dossiers.daily_rates(Timeline.build(AS_OF, 1, settings.calendar), 1.0)[:, 0]
    assert np.all(rates > 0)
