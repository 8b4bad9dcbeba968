"""Component ids of the desktop pages (dict ids for pattern-matching callbacks)."""

from __future__ import annotations

LOCATION = "desk-url"  # dcc.Location(refresh="callback-nav"): filters live in the URL
STATE = "desk-state"  # dcc.Store: the page's path and query, for callbacks that build links
LINEAGE = "desk-lineage"  # the lineage off-canvas panel
LINEAGE_BODY = "desk-lineage-body"
PERIOD = "desk-f-period"
RANGE = "desk-f-range"  # dcc.DatePickerRange: its start input has this id, its end input "-end-date"
FILTER_FIELDS = ("compare", "area", "department", "procedure", "channel", "category")


def field(name: str) -> str:
    return f"desk-f-{name}"


def explain(kpi_id: str) -> dict[str, str]:
    """The button that opens a number's lineage panel."""
    return {"type": "desk-explain", "kpi": kpi_id}


def lazy_list(kpi_id: str) -> dict[str, str]:
    """A list drawn after the page (its own callback)."""
    return {"type": "desk-lazy-list", "kpi": kpi_id}


def chart(kpi_id: str, by: str) -> dict[str, str]:
    """A chart whose bars or points drill down to the list behind them."""
    return {"type": "desk-chart", "kpi": kpi_id, "by": by}
