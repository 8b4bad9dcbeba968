"""The read model (DESIGN §6): every reader gets its numbers from :class:`ReadModel`.

    from ioc.queries import ReadModel
    model = ReadModel(engine, load_library(settings.kpi_dir), settings)
    model.tiles(["dossiers_on_time_rate", ...], area="66", period="2026-11")

Tiles, series, breakdowns, the rows behind a number (keyset-paged), lineage and source health; all
cached by data version; access scope applied here, once.
"""

from ioc.queries.cache import VersionedCache
from ioc.queries.lookups import Option
from ioc.queries.model import ReadModel
from ioc.queries.narrow import NARROWABLE, NarrowingError
from ioc.queries.rows import RowQueryError
from ioc.queries.types import (
    EVERYTHING,
    BreakdownResult,
    Lineage,
    RowPage,
    RunLine,
    Scope,
    Series,
    SeriesPoint,
    Tile,
)

__all__ = [
    "EVERYTHING",
    "NARROWABLE",
    "BreakdownResult",
    "Lineage",
    "NarrowingError",
    "Option",
    "ReadModel",
    "RowPage",
    "RowQueryError",
    "RunLine",
    "Scope",
    "Series",
    "SeriesPoint",
    "Tile",
    "VersionedCache",
]
