"""The area tree: an area is its whole `org_unit` subtree (children, and merged units via successor)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, Connection, FromClause, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.context import Context, KpiQueryError
from ioc.kpi.datasets import Breakdown
from ioc.models import OrgUnit


def area_tree(area: str, *, children: bool) -> CTE:
    """CTE (code, top): every org unit under `area` (children=False: top is the area itself) or under
    each of its children (children=True: top is the child). Merged units count under their successor."""
    org = OrgUnit.__table__
    seed_condition = org.c.parent_code == area if children else org.c.code == area
    seed = select(org.c.code.label("code"), org.c.code.label("top")).where(seed_condition)
    tree = seed.cte("area_tree", recursive=True)
    child = org.alias("area_child")
    return tree.union(
        select(child.c.code, tree.c.top).where(
            or_(child.c.parent_code == tree.c.code, child.c.successor_code == tree.c.code)
        )
    )


def area_is_root(connection: Connection, area: str) -> bool:
    org = OrgUnit.__table__
    row = connection.execute(select(org.c.parent_code).where(org.c.code == area)).first()
    if row is None:
        raise KpiQueryError(f"unknown area {area!r} (not in org_unit)")
    return row[0] is None


def in_area(ctx: Context, area_column: ColumnElement) -> list[ColumnElement]:
    """Conditions keeping the rows of the context's area (none for the root: every row counts)."""
    if ctx.area_is_root:
        return []
    tree = area_tree(ctx.area, children=False)
    return [area_column.in_(select(tree.c.code))]


def scoped(
    ctx: Context, source: FromClause, area_column: ColumnElement, spec: Breakdown | None, key: Any
) -> tuple[FromClause, Any, list[ColumnElement]]:
    """Restrict to the context's area (or group by its children): (source, key column, conditions)."""
    if spec is not None and spec.name == "area":
        tree = area_tree(ctx.area, children=True)
        return source.join(tree, tree.c.code == area_column), tree.c.top, []
    return source, key, in_area(ctx, area_column)
