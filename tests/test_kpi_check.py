"""`ioc kpi check`: each class of error is caught, named (file, KPI, field) and exits 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ioc.cli import app
from ioc.kpi import KpiSpecError, load_library
from ioc.kpi.spec import CountKpi, RatioKpi, check_library

REPO_ROOT = Path(__file__).resolve().parent.parent


def _kpi(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "dossiers_received",
        "name": {"vi": "Hồ sơ tiếp nhận", "en": "Dossiers received"},
        "unit": {"vi": "hồ sơ", "en": "dossiers"},
        "type": "count",
        "dataset": "dossier",
        "time": "received_at",
        "breakdowns": ["area"],
        "freshness": "1d",
        "owner": "Văn phòng UBND tỉnh",
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def _write(directory: Path, *kpis: dict[str, Any], name: str = "public_services.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump({"domain": "public_services", "kpis": list(kpis)}, allow_unicode=True))
    return directory


def _check(directory: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["kpi", "check", "--dir", str(directory)])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_shipped_definitions_are_valid() -> None:
    code, output = _check(REPO_ROOT / "kpi_definitions")
    assert code == 0, output
    library = load_library(REPO_ROOT / "kpi_definitions")
    assert {"public_services", "socio_economic", "incidents", "digital_citizens"} == set(
        library.domains.values()
    )
    assert len(library.headline()) >= 12


def test_a_valid_file_passes(tmp_path: Path) -> None:
    code, output = _check(_write(tmp_path, _kpi()))
    assert code == 0, output
    assert "OK: 1 KPIs" in output


def test_unknown_field(tmp_path: Path) -> None:
    code, output = _check(_write(tmp_path, _kpi(colour="red")))
    assert code == 2
    assert "public_services.yaml: KPI dossiers_received: colour: unknown field" in output


def test_unknown_field_inside_a_filter(tmp_path: Path) -> None:
    kpi = _kpi(filters=[{"field": "channel", "op": "eq", "value": "online", "sql": "1=1"}])
    code, output = _check(_write(tmp_path, kpi))
    assert code == 2
    assert "KPI dossiers_received: filters.0.sql: unknown field" in output


def test_unknown_dataset(tmp_path: Path) -> None:
    code, output = _check(_write(tmp_path, _kpi(dataset="permits")))
    assert code == 2
    assert "public_services.yaml: KPI dossiers_received: dataset: unknown dataset 'permits'" in output


def test_unknown_column_in_a_filter(tmp_path: Path) -> None:
    kpi = _kpi(filters=[{"field": "applicant_name", "op": "eq", "value": "x"}])
    code, output = _check(_write(tmp_path, kpi))
    assert code == 2
    assert (
        "public_services.yaml: KPI dossiers_received: filters.0.field: "
        "unknown column 'applicant_name' of dataset 'dossier'" in output
    )


def test_unknown_time_column_and_measure(tmp_path: Path) -> None:
    ratio = _kpi(
        id="avg_days",
        type="ratio",
        time="closed_at",
        numerator={"agg": "sum", "measure": "fee"},
        denominator={},
    )
    code, output = _check(_write(tmp_path, ratio))
    assert code == 2
    assert "KPI avg_days: numerator.time: unknown time column 'closed_at' of dataset 'dossier'" in output
    assert "KPI avg_days: numerator.measure: unknown column 'fee' of dataset 'dossier'" in output


def test_bad_filter_value(tmp_path: Path) -> None:
    kpi = _kpi(filters=[{"field": "channel", "op": "eq", "value": "fax"}])
    code, output = _check(_write(tmp_path, kpi))
    assert code == 2
    assert "KPI dossiers_received: filters.0.value: 'fax' is not one of online, in_person, postal" in output


def test_reference_to_a_missing_kpi(tmp_path: Path) -> None:
    growth = _kpi(id="received_growth", type="growth", base="dossiers_recieved", dataset=None, time=None)
    derived = _kpi(
        id="per_commune", type="derived", expression="dossiers_received / communes", dataset=None, time=None
    )
    code, output = _check(_write(tmp_path, _kpi(), growth, derived))
    assert code == 2
    assert "KPI received_growth: base: refers to a missing KPI 'dossiers_recieved'" in output
    assert "KPI per_commune: expression: refers to a missing KPI 'communes'" in output


def test_cycle_among_derived_kpis(tmp_path: Path) -> None:
    common = {"dataset": None, "time": None, "breakdowns": []}
    a = _kpi(id="a", type="derived", expression="b * 2", **common)
    b = _kpi(id="b", type="derived", expression="c + 1", **common)
    c = _kpi(id="c", type="growth", base="a", **common)
    code, output = _check(_write(tmp_path, a, b, c))
    assert code == 2
    assert "KPI a: expression: cycle among derived KPIs: a -> b -> c -> a" in output
    assert "KPI c: base: cycle among derived KPIs: c -> a -> b -> c" in output


def test_breakdown_the_dataset_does_not_have(tmp_path: Path) -> None:
    code, output = _check(_write(tmp_path, _kpi(breakdowns=["area", "category"])))
    assert code == 2
    assert "KPI dossiers_received: breakdowns.1: dataset 'dossier' has no breakdown 'category'" in output


def test_breakdown_a_derived_kpis_inputs_do_not_have(tmp_path: Path) -> None:
    series = _kpi(
        id="vneid",
        type="latest",
        dataset=None,
        time=None,
        indicator="vneid_level2",
        indicator_grain="month",
        breakdowns=["area"],
    )
    rate = _kpi(
        id="rate",
        type="derived",
        expression="dossiers_received / vneid",
        dataset=None,
        time=None,
        breakdowns=["area", "channel"],
    )
    code, output = _check(_write(tmp_path, _kpi(), series, rate))
    assert code == 2
    assert "KPI rate: breakdowns.1: a derived KPI's inputs has no breakdown 'channel'" in output


def test_errors_name_the_file_and_loader_raises(tmp_path: Path) -> None:
    _write(tmp_path, _kpi())
    _write(tmp_path, _kpi(id="late", dataset="dosier"), name="incidents.yaml")
    with pytest.raises(KpiSpecError) as caught:
        load_library(tmp_path)
    [issue] = caught.value.issues
    assert (issue.file, issue.kpi, issue.field) == ("incidents.yaml", "late", "dataset")
    assert "unknown dataset 'dosier'" in issue.message


def test_duplicate_ids_and_type_fields(tmp_path: Path) -> None:
    _write(tmp_path, _kpi(), _kpi(), _kpi(id="x", indicator="cpi"))
    _, issues = check_library(tmp_path)
    messages = {str(issue) for issue in issues}
    assert any("dossiers_received: id: duplicate KPI id" in m for m in messages)
    assert "public_services.yaml: KPI x: indicator: not used by a count KPI" in messages


# ------------------------------------------------ per-type models, file-level defaults, hostile values


def _write_document(directory: Path, document: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "public_services.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    return directory


def _issues(directory: Path) -> set[str]:
    return {str(issue) for issue in check_library(directory)[1]}


def test_each_type_has_its_own_model_and_required_fields(tmp_path: Path) -> None:
    library = load_library(REPO_ROOT / "kpi_definitions")
    assert isinstance(library.get("dossiers_on_time_rate"), RatioKpi)
    assert isinstance(library.get("dossiers_received"), CountKpi)
    ratio = _kpi(id="rate", type="ratio", numerator={"filters": [{"field": "on_time", "value": True}]})
    bad_type = _kpi(id="odd", type="average")
    messages = _issues(_write(tmp_path, ratio, bad_type))
    assert "public_services.yaml: KPI rate: denominator: required for a ratio KPI" in messages
    assert any(m.startswith("public_services.yaml: KPI odd: type: ") and "'average'" in m for m in messages)


def test_file_level_defaults(tmp_path: Path) -> None:
    own = _kpi(id="own", owner="Sở Nội vụ", freshness="2h")
    taken = _kpi(id="taken", owner=None, freshness=None, dataset=None)
    derived = _kpi(id="per_day", type="derived", expression="taken / 30", dataset=None, time=None)
    defaults = {"owner": "Văn phòng UBND tỉnh", "freshness": "1d", "dataset": "dossier"}
    document = {"domain": "public_services", "defaults": defaults, "kpis": [own, taken, derived]}
    library = load_library(_write_document(tmp_path, document))
    assert (library.get("own").owner, library.get("own").freshness) == ("Sở Nội vụ", "2h")
    assert (library.get("taken").owner, library.get("taken").freshness) == ("Văn phòng UBND tỉnh", "1d")
    assert library.get("taken").dataset == "dossier"  # type: ignore[union-attr]
    assert library.get("per_day").owner == "Văn phòng UBND tỉnh"  # a derived KPI has no dataset: ignored


def test_bad_defaults_are_named(tmp_path: Path) -> None:
    taken = _kpi(id="taken", freshness=None)
    document = {"domain": "d", "defaults": {"freshness": "soon", "colour": "red"}, "kpis": [taken]}
    assert any("KPI -: defaults: not a field a default can set: colour" in m for m in _issues(
        _write_document(tmp_path / "a", document)
    ))  # fmt: skip
    document["defaults"] = {"freshness": "soon"}
    [message] = _issues(_write_document(tmp_path / "b", document))
    assert message.startswith("public_services.yaml: KPI taken: defaults.freshness: ")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            {"field": "procedure_code", "value": 123},
            "filters.0.value: 'procedure_code' is text (quote it), got 123",
        ),
        ({"field": "due_at", "op": "lt", "value": "soon"}, "filters.0.value: 'due_at' is a date or a time"),
        ({"field": "status", "op": "in", "value": [4, 1.5]}, "filters.0.value: 'status' is a whole number"),
        ({"field": "status", "value": 2**70}, "filters.0.value: 'status' is out of range"),
        (
            {"field": "processing_days", "op": "gt", "value": float("nan")},
            "filters.0.value: 'processing_days' is a finite",
        ),
        ({"field": "channel", "op": "in", "value": [{"a": 1}]}, "filters.0.value: 'channel' is text"),
    ],
)
def test_filter_values_sql_cannot_compare_are_rejected(
    tmp_path: Path, item: dict[str, Any], expected: str
) -> None:
    code, output = _check(_write(tmp_path, _kpi(filters=[item])))
    assert code == 2
    assert f"KPI dossiers_received: {expected}" in output


def test_non_finite_numbers_are_rejected(tmp_path: Path) -> None:
    kpi = _kpi(scale=float("nan"), targets=[{"value": float("inf")}])
    code, output = _check(_write(tmp_path, kpi))
    assert code == 2
    assert "KPI dossiers_received: scale: Input should be a finite number" in output
    assert "KPI dossiers_received: targets.0.value: Input should be a finite number" in output


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a" + " + a" * 5000, "expression too long (20001 characters, at most 1000)"),
        ("a" + "+a" * 200, "expression nested too deeply"),
        ("-" * 900 + "a", "expression nested too deeply"),
        ("(" * 300 + "a" + ")" * 300, "invalid expression"),
        ("a * 1e400", "only numbers, KPI ids and + - * / are allowed, found '1e309'"),
    ],
)
def test_huge_or_deep_expressions_are_an_issue_not_a_crash(
    tmp_path: Path, expression: str, expected: str
) -> None:
    derived = _kpi(id="big", type="derived", expression=expression, dataset=None, time=None, breakdowns=[])
    code, output = _check(_write(tmp_path, _kpi(id="a"), derived))
    assert code == 2
    assert "public_services.yaml: KPI big: expression: " in output and expected in output
    assert "Traceback" not in output
