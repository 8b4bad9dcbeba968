"""The area tree: an area is its whole `org_unit` subtree, each unit counted under exactly one parent.

A unit merged away keeps its old code with `valid_to` and `successor_code`; facts stored under the old
code still count. Each unit hangs under one link, so a breakdown never counts a row twice:

* seen from a current unit, a unit belongs to its successor if it has one, else to its parent (the
  map as it is today: an old commune's history counts in the new commune that took it over);
* seen from an old (ended) unit, a unit belongs to its parent if it has one, else to its successor
  (the map as it was: an old district's history includes its old communes).

Asking for an old unit gives its own history, with :class:`Area` saying where it went and when; a
period that starts after it ended has no data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import CTE, Connection, FromClause, Table, func, select
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.context import Context, KpiQueryError
from ioc.kpi.datasets import Breakdown
from ioc.models import OrgUnit

ORG_UNIT = cast(Table, OrgUnit.__table__)


@dataclass(frozen=True)
class Area:
    code: str
    root: bool  # the top of the tree (the province): every row counts, even those without an area
    valid_to: date | None  # the last day of an old unit
    successor: str | None  # the unit an old unit was merged into

    @property
    def historic(self) -> bool:
        return self.valid_to is not None or self.successor is not None

    @property
    def merged_on(self) -> date | None:
        """The first day the unit no longer existed (its successor took over)."""
        return None if self.valid_to is None else self.valid_to + timedelta(days=1)


def area(connection: Connection, code: str) -> Area:
    org = ORG_UNIT
    query = select(org.c.parent_code, org.c.valid_to, org.c.successor_code).where(org.c.code == code)
    row = connection.execute(query).first()
    if row is None:
        raise KpiQueryError(f"unknown area {code!r} (not in org_unit)")
    root = row.parent_code is None and row.successor_code is None and row.valid_to is None
    return Area(code, root, row.valid_to, row.successor_code)


def link(org: FromClause, historic: bool) -> ColumnElement:
    """The one code a unit hangs under (see the module docstring)."""
    first, second = (org.c.parent_code, org.c.successor_code)
    return func.coalesce(first, second) if historic else func.coalesce(second, first)


def area_tree(code: str, *, children: bool, historic: bool = False) -> CTE:
    """CTE (code, top): every org unit under `code` (children=False: top is the area itself) or under
    each of its children (children=True: top is the child); every unit appears once."""
    org = ORG_UNIT
    seed_condition = link(org, historic) == code if children else org.c.code == code
    seed = select(org.c.code.label("code"), org.c.code.label("top")).where(seed_condition)
    tree = seed.cte("area_tree", recursive=True)
    child = org.alias("area_child")
    return tree.union(select(child.c.code, tree.c.top).where(link(child, historic) == tree.c.code))


def area_codes(connection: Connection, roots: Iterable[str]) -> frozenset[str]:
    """Every org unit code the given areas count, each as the engine counts it (`area_tree`: a current
    unit with the units merged into it, an old unit with its own history); unknown codes add nothing.
    A reader's area scope is this set, so the scope check and the numbers follow one rule."""
    codes: set[str] = set()
    for root in sorted(set(roots)):
        try:
            historic = area(connection, root).historic
        except KpiQueryError:
            continue
        tree = area_tree(root, children=False, historic=historic)
        codes.update(connection.execute(select(tree.c.code)).scalars())
    return frozenset(codes)


def in_area(ctx: Context, area_column: ColumnElement) -> list[ColumnElement]:
    """Conditions keeping the rows of the context's area (none for the root: every row counts)."""
    if ctx.area_is_root:
        return []
    tree = area_tree(ctx.area, children=False, historic=ctx.historic)
    return [area_column.in_(select(tree.c.code))]


def scoped(
    ctx: Context, source: FromClause, area_column: ColumnElement, spec: Breakdown | None, key: Any
) -> tuple[FromClause, Any, list[ColumnElement]]:
    """Restrict to the context's area (or group by its children): (source, key column, conditions)."""
    if spec is not None and spec.name == "area":
        tree = area_tree(ctx.area, children=True, historic=ctx.historic)
        return source.join(tree, tree.c.code == area_column), tree.c.top, []
    return source, key, in_area(ctx, area_column)
