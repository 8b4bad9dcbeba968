"""Growth and derived KPIs, computed from other KPIs; :func:`evaluate` dispatches on a KPI's type."""

from __future__ import annotations

from ioc.kpi import expressions
from ioc.kpi.asof import beyond_data
from ioc.kpi.context import Computed, Context
from ioc.kpi.facts import facts, ratio
from ioc.kpi.periods import Period, compare_period
from ioc.kpi.series import series
from ioc.kpi.spec import DerivedKpi, FactKpi, GrowthKpi, Kpi, LatestKpi


def _growth(ctx: Context, kpi: GrowthKpi, period: Period, breakdown: str | None) -> Computed:
    base = ctx.library.get(kpi.base)
    now = evaluate(ctx, base, period, breakdown)
    before = evaluate(ctx, base, compare_period(period, kpi.compare), breakdown)

    def growth(a: float | None, b: float | None) -> float | None:
        change = ratio(a, b, 100.0)
        return None if change is None else change - 100.0

    rows = None
    if breakdown:
        rows = {key: growth(value, (before.rows or {}).get(key)) for key, value in (now.rows or {}).items()}
    return Computed(
        growth(now.value, before.value), rows, now.observed_period, path="derived", coverage=now.coverage
    )


def _derived(ctx: Context, kpi: DerivedKpi, period: Period, breakdown: str | None) -> Computed:
    names = sorted(kpi.references())
    inputs = {name: evaluate(ctx, ctx.library.get(name), period, breakdown) for name in names}
    value = expressions.evaluate(kpi.expression, {n: c.value for n, c in inputs.items()})
    coverages = [c.coverage for c in inputs.values() if c.coverage is not None]
    coverage = min(coverages) if coverages else None
    if any(reporting < expected for reporting, expected in coverages):
        expected = max(expected for _, expected in coverages)
        value, coverage = _over_reporting_units(ctx, kpi, period, names, expected)
    rows = None
    if breakdown:
        keys = set().union(*(set(c.rows or {}) for c in inputs.values()))
        rows = {
            key: expressions.evaluate(kpi.expression, {n: (c.rows or {}).get(key) for n, c in inputs.items()})
            for key in keys
        }
    observed = max((c.observed_period for c in inputs.values() if c.observed_period), default=None)
    return Computed(value, rows, observed, path="derived", coverage=coverage)


def _over_reporting_units(
    ctx: Context, kpi: DerivedKpi, period: Period, names: list[str], expected: int
) -> tuple[float | None, tuple[int, int]]:
    """Inputs summed over the same units (those where every input has a value), so a rate over 100
    of 102 communes divides their activations by their targets, not by all 102 targets."""
    by_unit = {name: evaluate(ctx, ctx.library.get(name), period, "area").rows or {} for name in names}
    common = [
        key
        for key in set().union(*by_unit.values())
        if all(rows.get(key) is not None for rows in by_unit.values())
    ]
    sums = {name: sum(float(rows[key] or 0.0) for key in common) for name, rows in by_unit.items()}
    value = expressions.evaluate(kpi.expression, sums) if common else None
    return value, (len(common), max(expected, len(common)))


def evaluate(ctx: Context, kpi: Kpi, period: Period, breakdown: str | None) -> Computed:
    if isinstance(kpi, LatestKpi):
        return series(ctx, kpi, period, breakdown)
    if isinstance(kpi, GrowthKpi):
        return _growth(ctx, kpi, period, breakdown)
    if isinstance(kpi, DerivedKpi):
        return _derived(ctx, kpi, period, breakdown)
    assert isinstance(kpi, FactKpi)
    if beyond_data(ctx, kpi, period):
        return Computed(None, {} if breakdown else None, path="no data")
    return facts(ctx, kpi, period, breakdown)
