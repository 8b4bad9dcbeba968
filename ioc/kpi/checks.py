"""Validation rules over a parsed KPI library, one small function per rule.

Each rule yields :class:`SpecIssue` objects naming the file, the KPI id and the field. `ioc kpi check`
prints them all and exits 2 when there is any.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import date

from ioc.kpi import expressions
from ioc.kpi.datasets import DATASETS, FACT_DATASETS, Dataset, DatasetColumn
from ioc.kpi.spec import DerivedKpi, FactKpi, Filter, Kpi, KpiLibrary, MeasureSpec, SpecIssue

Rule = Callable[[KpiLibrary, Kpi], Iterator[SpecIssue]]

VALUE_OPS = ("eq", "ne", "lt", "le", "gt", "ge")
ORDER_OPS = ("lt", "le", "gt", "ge")


def _issue(library: KpiLibrary, kpi: Kpi, field: str, message: str) -> SpecIssue:
    return SpecIssue(library.files[kpi.id].name, kpi.id, field, message)


def check_dataset(library: KpiLibrary, kpi: Kpi) -> Iterator[SpecIssue]:
    if not isinstance(kpi, FactKpi):
        return
    if kpi.dataset not in DATASETS:
        yield _issue(
            library, kpi, "dataset", f"unknown dataset {kpi.dataset!r} (known: {', '.join(DATASETS)})"
        )
    elif kpi.dataset not in FACT_DATASETS:
        yield _issue(library, kpi, "dataset", f"{kpi.dataset!r} holds series: use a `latest` KPI")


def _check_filter(
    library: KpiLibrary, kpi: Kpi, dataset: Dataset, item: Filter, field: str, snapshot: bool
) -> Iterator[SpecIssue]:
    column = dataset.columns.get(item.field)
    if column is None:
        yield _issue(
            library, kpi, f"{field}.field", f"unknown column {item.field!r} of dataset {dataset.name!r}"
        )
        return
    if column.snapshot and not snapshot:
        yield _issue(library, kpi, f"{field}.field", f"{item.field!r} is only defined for snapshot KPIs")
    if item.field == "due_in_working_days" and item.op not in ("le", "lt"):
        yield _issue(library, kpi, f"{field}.op", "due_in_working_days supports only le and lt")
    if item.op in ("is_null", "not_null"):
        if item.value is not None:
            yield _issue(library, kpi, f"{field}.value", f"{item.op} takes no value")
        return
    values = item.value if item.op in ("in", "not_in") else [item.value]
    if item.op in ("in", "not_in") and not isinstance(item.value, list):
        yield _issue(library, kpi, f"{field}.value", f"{item.op} needs a list of values")
        return
    if item.op in ORDER_OPS and column.kind in ("text", "bool"):
        yield _issue(library, kpi, f"{field}.op", f"{item.op} does not apply to a {column.kind} column")
    for value in values:
        problem = _value_problem(column, value)
        if problem is not None:
            yield _issue(library, kpi, f"{field}.value", f"{item.field!r} {problem}, got {_shown(value)}")
        elif column.values is not None and item.op not in ORDER_OPS and value not in column.values:
            allowed = ", ".join(str(v) for v in column.values)
            yield _issue(library, kpi, f"{field}.value", f"{value!r} is not one of {allowed}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _value_problem(column: DatasetColumn, value: object) -> str | None:
    """Why `value` cannot be compared with `column` in SQL (None: it can)."""
    if value is None:
        return "needs a value (use is_null for missing)"
    if column.kind == "bool":
        return None if isinstance(value, bool) else "is true/false"
    if column.kind == "text":
        return None if isinstance(value, str) else "is text (quote it)"
    if column.kind == "timestamp":
        return None if isinstance(value, date) else "is a date or a time (2026-10-05)"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "is a number"
    if column.kind == "int" and not isinstance(value, int):
        return "is a whole number"
    if column.kind == "int" and not -(2**63) <= value < 2**63:
        return "is out of range"
    return None if math.isfinite(value) else "is a finite number"


def _check_measure(
    library: KpiLibrary, kpi: Kpi, dataset: Dataset, part: MeasureSpec, prefix: str
) -> Iterator[SpecIssue]:
    if part.snapshot and dataset.open_state is None:
        yield _issue(library, kpi, f"{prefix}snapshot", f"dataset {dataset.name!r} has no open/closed state")
    if part.snapshot and part.time:
        yield _issue(library, kpi, f"{prefix}time", "a snapshot KPI has no time column")
    if not part.snapshot:
        if part.time is None:
            yield _issue(library, kpi, f"{prefix}time", "required (or snapshot: true)")
        elif part.time not in dataset.times:
            yield _issue(
                library,
                kpi,
                f"{prefix}time",
                f"unknown time column {part.time!r} of dataset {dataset.name!r}"
                f" (known: {', '.join(dataset.times)})",
            )
    if part.agg == "sum" or kpi.type == "percentile":
        column = dataset.columns.get(part.measure or "")
        if part.measure is None:
            yield _issue(library, kpi, f"{prefix}measure", "required to sum")
        elif column is None:
            yield _issue(
                library,
                kpi,
                f"{prefix}measure",
                f"unknown column {part.measure!r} of dataset {dataset.name!r}",
            )
        elif not column.summable:
            yield _issue(library, kpi, f"{prefix}measure", f"column {part.measure!r} is not numeric")
    elif part.measure is not None:
        yield _issue(library, kpi, f"{prefix}measure", "a count takes no measure")


def check_columns(library: KpiLibrary, kpi: Kpi) -> Iterator[SpecIssue]:
    if not isinstance(kpi, FactKpi) or kpi.dataset not in FACT_DATASETS:
        return
    dataset = DATASETS[kpi.dataset]
    parts = kpi.parts()
    all_snapshot = all(part.snapshot for part in parts.values())
    for index, item in enumerate(kpi.filters):
        yield from _check_filter(library, kpi, dataset, item, f"filters.{index}", all_snapshot)
    own = len(kpi.filters)
    for name, part in parts.items():
        prefix = "" if name == "value" else f"{name}."
        yield from _check_measure(library, kpi, dataset, part, prefix)
        if name == "value":
            continue
        for index, item in enumerate(part.filters[own:]):
            yield from _check_filter(
                library, kpi, dataset, item, f"{prefix}filters.{index}", bool(part.snapshot)
            )


def _supported_breakdowns(
    library: KpiLibrary, kpi: Kpi, seen: frozenset[str] = frozenset()
) -> set[str] | None:
    """Breakdowns a KPI can be computed by; None when unknown (bad or cyclic references)."""
    if kpi.id in seen:
        return None
    if isinstance(kpi, FactKpi):
        dataset = DATASETS.get(kpi.dataset)
        return set(dataset.breakdowns) if dataset is not None else None
    if kpi.type == "latest":
        return {"area"}
    supported: set[str] | None = None
    for ref in kpi.references():
        if ref not in library.kpis:
            return None
        below = _supported_breakdowns(library, library.kpis[ref], seen | {kpi.id})
        if below is None:
            return None
        supported = below if supported is None else supported & below
    return supported or set()


def check_breakdowns(library: KpiLibrary, kpi: Kpi) -> Iterator[SpecIssue]:
    supported = _supported_breakdowns(library, kpi)
    if supported is None:
        return
    for index, name in enumerate(kpi.breakdowns):
        if name not in supported:
            where = f"dataset {kpi.dataset!r}" if isinstance(kpi, FactKpi) else f"a {kpi.type} KPI's inputs"
            yield _issue(library, kpi, f"breakdowns.{index}", f"{where} has no breakdown {name!r}")


def check_references(library: KpiLibrary, kpi: Kpi) -> Iterator[SpecIssue]:
    if isinstance(kpi, DerivedKpi):
        try:
            expressions.parse(kpi.expression)
        except expressions.ExpressionError as exc:
            yield _issue(library, kpi, "expression", str(exc))
            return
    field = "base" if kpi.type == "growth" else "expression"
    for ref in sorted(kpi.references()):
        if ref not in library.kpis:
            yield _issue(library, kpi, field, f"refers to a missing KPI {ref!r}")
        elif ref == kpi.id:
            yield _issue(library, kpi, field, "refers to itself")


def _find_cycle(library: KpiLibrary, start: str) -> list[str] | None:
    path: list[str] = []

    def visit(kpi_id: str) -> list[str] | None:
        if kpi_id in path:
            return [*path[path.index(kpi_id) :], kpi_id]
        kpi = library.kpis.get(kpi_id)
        if kpi is None:
            return None
        path.append(kpi_id)
        for ref in sorted(kpi.references()):
            if ref != kpi_id and (cycle := visit(ref)):
                return cycle
        path.pop()
        return None

    return visit(start)


def check_cycles(library: KpiLibrary, kpi: Kpi) -> Iterator[SpecIssue]:
    cycle = _find_cycle(library, kpi.id)
    if cycle and cycle[0] == kpi.id:
        field = "base" if kpi.type == "growth" else "expression"
        yield _issue(library, kpi, field, f"cycle among derived KPIs: {' -> '.join(cycle)}")


def check_thresholds(library: KpiLibrary, kpi: Kpi) -> Iterator[SpecIssue]:
    thresholds = kpi.thresholds
    if thresholds is None:
        return
    if kpi.direction == "neutral":
        yield _issue(library, kpi, "thresholds", "a neutral KPI has no status colours")
    elif kpi.direction == "higher_is_better" and thresholds.amber > thresholds.green:
        yield _issue(library, kpi, "thresholds.amber", "must be ≤ green when higher is better")
    elif kpi.direction == "lower_is_better" and thresholds.amber < thresholds.green:
        yield _issue(library, kpi, "thresholds.amber", "must be ≥ green when lower is better")
    if thresholds.basis == "percent_of_target" and not kpi.targets:
        yield _issue(library, kpi, "thresholds.basis", "percent_of_target needs targets")


RULES: tuple[Rule, ...] = (
    check_dataset,
    check_columns,
    check_breakdowns,
    check_references,
    check_cycles,
    check_thresholds,
)


def run_checks(library: KpiLibrary) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    for kpi in library.kpis.values():
        for rule in RULES:
            issues.extend(rule(library, kpi))
    return issues
