"""Shared set-up of the KPI tests that need a small area tree and a clean rollup state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, insert

from ioc.kpi import rollup as rollups
from ioc.models import OrgUnit

PROVINCE_AND_COMMUNE = [
    {"code": "66", "name": "Tỉnh Đắk Lắk", "kind": "tỉnh", "level": 1, "parent_code": None},
    {"code": "66001", "name": "Xã A", "kind": "xã", "level": 2, "parent_code": "66"},
]


@contextmanager
def province_without_rollups(engine: Engine) -> Iterator[Engine]:
    """Province 66 with one commune 66001, no rollups before and after."""
    with engine.begin() as connection:
        rollups.clear(connection)
        connection.execute(insert(OrgUnit.__table__), PROVINCE_AND_COMMUNE)
    try:
        yield engine
    finally:
        with engine.begin() as connection:
            rollups.clear(connection)
