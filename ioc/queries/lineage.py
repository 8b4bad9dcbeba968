"""Lineage of a number: what it is, how it is computed, from which sources and runs, as of when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, text

from ioc.freshness import Freshness
from ioc.kpi.datasets import DATASETS
from ioc.kpi.spec import (
    DerivedKpi,
    FactKpi,
    Filter,
    GrowthKpi,
    Kpi,
    KpiLibrary,
    LatestKpi,
    MeasureSpec,
    RatioKpi,
)
from ioc.queries.types import Lineage, RunLine

OPERATORS_VI = {
    "eq": "=",
    "ne": "≠",
    "in": "thuộc",
    "not_in": "không thuộc",
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
    "is_null": "để trống",
    "not_null": "có giá trị",
}
RUNS_PER_SOURCE = 5


def _value_vi(value: Any) -> str:
    if value is True:
        return "có"
    if value is False:
        return "không"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(_value_vi(v) for v in value) + "}"
    return str(value)


def _filter_vi(dataset: str, item: Filter) -> str:
    column = DATASETS[dataset].columns.get(item.field)
    label = column.label if column else item.field
    if item.op in ("is_null", "not_null"):
        return f"{label} {OPERATORS_VI[item.op]}"
    return f"{label} {OPERATORS_VI[item.op]} {_value_vi(item.value)}"


def _part_vi(kpi: FactKpi, part: MeasureSpec) -> str:
    dataset = DATASETS[kpi.dataset]
    what = f"số {dataset.label.lower()}"
    if part.agg == "sum" and part.measure:
        column = dataset.columns.get(part.measure)
        what = f"tổng {column.label if column else part.measure}"
    if part.snapshot:
        when = "đang mở tại thời điểm cuối kỳ (hoặc hiện tại)"
    else:
        column = dataset.columns.get(part.time or "")
        when = f"có {column.label if column else part.time} trong kỳ"
    filters = [_filter_vi(kpi.dataset, item) for item in part.filters]
    return f"{what} {when}" + (f", với {'; '.join(filters)}" if filters else "")


def formula_vi(kpi: Kpi) -> str:
    """The computation in words, from the definition itself (never written by hand twice)."""
    scale = f" × {kpi.scale:g}" if isinstance(kpi, FactKpi) and kpi.scale != 1 else ""
    if isinstance(kpi, RatioKpi):
        parts = kpi.parts()
        return (
            f"Tử số: {_part_vi(kpi, parts['numerator'])}. Mẫu số: {_part_vi(kpi, parts['denominator'])}. "
            f"Giá trị = tổng tử số / tổng mẫu số{scale}; mẫu số bằng 0 là không có dữ liệu."
        )
    if isinstance(kpi, FactKpi):
        return f"{_part_vi(kpi, kpi.parts()['value'])}{scale}."
    if isinstance(kpi, LatestKpi):
        how = "tổng lũy kế từ đầu năm" if kpi.to_date == "year" else "giá trị mới nhất"
        return f"Chỉ tiêu {kpi.indicator} ({kpi.indicator_grain}): {how} của nguồn thống kê trong kỳ."
    if isinstance(kpi, GrowthKpi):
        compare = "cùng kỳ năm trước" if kpi.compare == "same_period_last_year" else "kỳ trước"
        return f"Tốc độ tăng của {kpi.base} so với {compare}: (kỳ này / kỳ so sánh × 100) − 100."
    assert isinstance(kpi, DerivedKpi)
    return f"Tính từ các chỉ số khác: {kpi.expression}."


_RUNS_SQL = text(
    """
    SELECT * FROM (
        SELECT id, source, status, started_at, finished_at, rows_read,
               rows_inserted + rows_updated AS rows_loaded, rows_rejected, error,
               row_number() OVER (PARTITION BY source ORDER BY started_at DESC, id DESC) AS n
          FROM connector_run WHERE source IN :sources
    ) newest WHERE n <= :per_source ORDER BY started_at DESC, id DESC
    """
).bindparams(bindparam("sources", expanding=True))


def recent_runs(
    connection: Connection, sources: tuple[str, ...], per_source: int = RUNS_PER_SOURCE
) -> tuple[RunLine, ...]:
    if not sources:
        return ()
    rows = connection.execute(_RUNS_SQL, {"sources": list(sources), "per_source": per_source})
    return tuple(
        RunLine(
            run_id=row.id,
            source=row.source,
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            rows_read=row.rows_read,
            rows_loaded=row.rows_loaded,
            rows_rejected=row.rows_rejected,
            error=row.error,
        )
        for row in rows
    )


def build_lineage(connection: Connection, library: KpiLibrary, kpi: Kpi, state: Freshness) -> Lineage:
    thresholds = kpi.thresholds
    return Lineage(
        kpi_id=kpi.id,
        name_vi=kpi.name.vi,
        name_en=kpi.name.en,
        description_vi=kpi.description.vi if kpi.description else None,
        description_en=kpi.description.en if kpi.description else None,
        kpi_type=kpi.type,
        formula_vi=formula_vi(kpi),
        dataset=kpi.dataset if isinstance(kpi, FactKpi) else None,
        unit_vi=kpi.unit.vi,
        grain=kpi.grain,
        direction=kpi.direction,
        owner=kpi.owner,
        legal_source=kpi.legal_source,
        targets=tuple((t.year, t.area, t.value) for t in kpi.targets),
        thresholds=(thresholds.green, thresholds.amber, thresholds.basis) if thresholds else None,
        freshness_expected=kpi.freshness,
        freshness=state.state,
        data_as_of=state.data_as_of,
        sources=state.sources,
        runs=recent_runs(connection, state.sources),
        computed_from=tuple(sorted(kpi.references())),
    )
