"""KPI definitions and engine (DESIGN §5).

Public API, used by the dashboard and briefings:

* :func:`load_library` (kpi_dir) → :class:`KpiLibrary`; raises :class:`KpiSpecError` whose `issues`
  name the file, KPI id and field of every problem.
* :func:`ioc.kpi.engine.compute` (engine or connection, library, kpi_id, period, area, breakdown=None,
  as_of=None, *, now=None, zone=Settings.zone) → :class:`KpiResult` (value — None is "no data", never
  0 —, previous, delta, target, status, unit, data age, ranked rows, `coverage` (100, 102) when a
  series value sums the units that reported, `merged_into`/`merged_on` for an old unit's code).
* :func:`ioc.kpi.selection.selection` (connection, library, kpi_id, period, area, part=…) → the
  dataset, FROM clause and WHERE conditions of the rows a number counts (drill-down).
* :func:`ioc.kpi.rollup.refresh` (connection) rebuilds the rollup tables after loads.
"""

from ioc.kpi.result import KpiResult, KpiRow
from ioc.kpi.spec import Kpi, KpiLibrary, KpiNotFound, KpiSpecError, SpecIssue, check_library, load_library

__all__ = [
    "Kpi",
    "KpiLibrary",
    "KpiNotFound",
    "KpiResult",
    "KpiRow",
    "KpiSpecError",
    "SpecIssue",
    "check_library",
    "load_library",
]
