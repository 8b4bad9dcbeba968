"""The read model bound to one reader's scope.

`ReadModel` already enforces a :class:`Scope` on tiles, series, breakdowns and rows when one is passed;
this view passes the reader's scope on EVERY question, whatever its caller asks, and also checks the
questions that take no scope argument (a bare `result` with a hand-made narrowing, `lineage`, indicator
flags). The web app hands pages this view (`dashboard.data.read_model`), so no page, callback, export
or lineage panel can ask outside the reader's departments and areas, even through a hand-made callback
request. It shares the base model's engine, library and cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ioc.kpi.periods import Period
from ioc.kpi.result import KpiResult
from ioc.queries.copy_stream import CopyStream
from ioc.queries.model import ReadModel
from ioc.queries.narrow import Narrowing
from ioc.queries.types import BreakdownResult, Lineage, RowPage, Scope, Series, Tile


class ScopedReadModel(ReadModel):
    def __init__(self, base: ReadModel, scope: Scope) -> None:
        self.__dict__.update(base.__dict__)
        if scope.departments == frozenset() or scope.areas == frozenset():
            raise PermissionError("an empty scope reads nothing")
        self.scope = scope

    def narrowing(self, filters: Mapping[str, Any] | None, scope: Scope | None = None) -> Narrowing:
        return super().narrowing(filters, self.scope)

    def _check_narrowing(self, narrowing: Narrowing) -> None:
        if self.scope.departments is None:
            return
        asked = dict(narrowing).get("department")
        if not asked or not set(asked) <= self.scope.departments:
            raise PermissionError("department outside this reader's scope")

    def _check_scope(self, scope: Scope, area: str) -> None:
        """The area must be in the scope, and so must every unit its answer counts: an old unit's own
        history may count old units that went to another area (`ioc.kpi.areas.area_codes`)."""
        super()._check_scope(scope, area)
        if scope.areas is not None and not self._areas_within(frozenset({area})) <= self._areas_within(
            scope.areas
        ):
            raise PermissionError(f"area {area!r} counts units outside this reader's scope")

    def result(self, kpi_id: str, *args: Any, **kwargs: Any) -> KpiResult:
        """A bare `result` (no narrowing given) is narrowed to the reader's scope; a narrowing given
        must stay within it."""
        self._check_scope(self.scope, kwargs["area"])
        kwargs.setdefault("narrowing", self.narrowing({}))
        self._check_narrowing(kwargs["narrowing"])
        return super().result(kpi_id, *args, **kwargs)

    def tiles(self, *args: Any, **kwargs: Any) -> dict[str, Tile]:
        return super().tiles(*args, **{**kwargs, "scope": self.scope})

    def series(self, *args: Any, **kwargs: Any) -> Series:
        return super().series(*args, **{**kwargs, "scope": self.scope})

    def breakdown(self, *args: Any, **kwargs: Any) -> BreakdownResult:
        return super().breakdown(*args, **{**kwargs, "scope": self.scope})

    def rows(self, *args: Any, **kwargs: Any) -> RowPage:
        return super().rows(*args, **{**kwargs, "scope": self.scope})

    def rows_csv(self, *args: Any, **kwargs: Any) -> CopyStream:
        return super().rows_csv(*args, **{**kwargs, "scope": self.scope})

    def lineage(self, kpi_id: str, *args: Any, **kwargs: Any) -> Lineage:
        self._check_scope(self.scope, kwargs["area"])
        return super().lineage(kpi_id, *args, **kwargs)

    def indicator_flags(self, kpi_id: str, area: str) -> dict[Any, str]:
        self._check_scope(self.scope, area)
        return super().indicator_flags(kpi_id, area)


def scoped(model: ReadModel, scope: Scope) -> ReadModel:
    """`model` itself for a reader who sees everything, else the scoped view (`model` may be a scoped
    view itself: give a scope within its own, see :func:`narrowed_scope`)."""
    return model if scope.unrestricted else ScopedReadModel(model, scope)


def lineage(
    model: ReadModel,
    kpi_id: str,
    *,
    area: str,
    period: str | Period | None = None,
    filters: Mapping[str, Any] | None = None,
) -> Lineage:
    """The lineage panel of a number as the desk filters it. `ReadModel.lineage` takes no filters, so
    they are checked against the reader's scope here: another department's panel is refused."""
    if isinstance(model, ScopedReadModel):
        model.narrowing(filters)
    return model.lineage(kpi_id, area=area, period=period)


def narrowed_scope(scope: Scope, department: str | None) -> Scope:
    """The reader's scope narrowed to one department (a department's briefing); a department outside
    the scope is refused."""
    if department is None:
        return scope
    if scope.departments is not None and department not in scope.departments:
        raise PermissionError("department outside this reader's scope")
    return Scope(departments=frozenset({department}), areas=scope.areas)


def check_area(model: ReadModel, area: str) -> None:
    """PermissionError unless the model's reader may ask about `area` (before work that would fail)."""
    if isinstance(model, ScopedReadModel):
        model._check_scope(model.scope, area)


def reads_whole(model: ReadModel, area: str) -> bool:
    """Whether the model's reader may read `area` whole: every department, every unit it counts (what
    an archived briefing of the area shows)."""
    if isinstance(model, ScopedReadModel) and model.scope.departments is not None:
        return False
    try:
        check_area(model, area)
    except PermissionError:
        return False
    return True
