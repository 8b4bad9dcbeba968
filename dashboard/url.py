"""Desktop filters <-> query string, both ways, pure (no Dash, no Flask).

The URL is the state of a desktop view: a reload, the back button or a link sent by e-mail give the same
view. Defaults are left out of the query string except the period, which is always written once chosen
(a link sent today must show the same period next month). Values that do not parse are dropped, never
passed on to the read model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from urllib.parse import parse_qsl, urlencode

from ioc.kpi.periods import PeriodError, month, parse_period

COMPARES = ("previous_period", "same_period_last_year", "none")
LANGUAGES = ("vi", "en")
PARTS = ("value", "numerator", "denominator")
# lists are sorted by date received unless asked otherwise (an indexed order: page 500 as fast as page 1)
DEFAULT_SORT = "received_at"
# filter field -> query key; the order of this table is the order in the query string
KEYS = {
    "period": "period",
    "compare": "compare",
    "area": "area",
    "department": "dept",
    "procedure": "proc",
    "channel": "channel",
    "category": "cat",
    "lang": "lang",
}
# the row filters the read model understands (ReadModel.rows(filters=...)), named as the read model does
ROW_FILTERS = ("department", "procedure", "channel", "category")
_CODE = re.compile(r"^[\w.:-]{1,64}$")
_CURSOR = re.compile(r"^[\w.:=~-]{1,512}$")


def _code(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if _CODE.match(text) else None


def default_period(today: date) -> str:
    """The current month, as a code."""
    return month(today.year, today.month).label


@dataclass(frozen=True)
class Filters:
    """What a desktop view is filtered by. `area` None is the whole province."""

    period: str
    compare: str = "previous_period"
    area: str | None = None
    department: str | None = None
    procedure: str | None = None
    channel: str | None = None
    category: str | None = None
    lang: str = "vi"

    def with_(self, **changes: str | None) -> Filters:
        return replace(self, **changes)

    @property
    def compare_or_none(self) -> str | None:
        return None if self.compare == "none" else self.compare

    def row_filters(self) -> dict[str, str]:
        """The filters a list of rows takes (department, procedure, channel, category)."""
        return {name: value for name in ROW_FILTERS if (value := getattr(self, name))}

    def describe(self) -> list[tuple[str, str]]:
        """(field, value) of every filter set, for the header of an export."""
        return [(name, str(value)) for name, value in asdict(self).items() if value not in (None, "")]


@dataclass(frozen=True)
class ListState:
    """The list behind a number: which KPI and part, sorted how, from which keyset cursor."""

    kpi: str
    part: str = "value"
    sort: str = DEFAULT_SORT
    descending: bool = False
    after: str | None = None


def _single(query: Mapping[str, object] | str) -> dict[str, str]:
    if isinstance(query, str):
        return dict(parse_qsl(query.lstrip("?"), keep_blank_values=False))
    return {key: str(value[-1] if isinstance(value, list | tuple) else value) for key, value in query.items()}


def parse_filters(query: Mapping[str, object] | str, today: date) -> Filters:
    """Filters from a query string (`?period=2026-11&dept=STP`) or Dash Pages' `layout(**query)` dict."""
    values = _single(query)
    period = values.get(KEYS["period"], "").strip()
    try:
        period = parse_period(period, today=today).label if period else default_period(today)
    except PeriodError:
        period = default_period(today)
    compare = values.get(KEYS["compare"], "previous_period")
    lang = values.get(KEYS["lang"], "vi")
    codes = {name: _code(values.get(KEYS[name])) for name in ("area", *ROW_FILTERS)}
    return Filters(
        period=period,
        compare=compare if compare in COMPARES else "previous_period",
        lang=lang if lang in LANGUAGES else "vi",
        **codes,
    )


def filters_query(filters: Filters) -> dict[str, str]:
    """The query parameters of `filters`, defaults left out (the period always written)."""
    defaults = Filters(period="")
    out: dict[str, str] = {}
    for name, key in KEYS.items():
        value = getattr(filters, name)
        if value is not None and (name == "period" or value != getattr(defaults, name)):
            out[key] = value
    return out


def to_search(filters: Filters, listing: ListState | None = None, **extra: str | None) -> str:
    """`?period=…&dept=…` for a link or `dcc.Location.search`; `extra` adds page parameters."""
    params = filters_query(filters)
    if listing is not None:
        params |= list_query(listing)
    params |= {key: value for key, value in extra.items() if value is not None}
    return "?" + urlencode(params) if params else ""


def list_query(listing: ListState) -> dict[str, str]:
    params = {"kpi": listing.kpi}
    if listing.part != "value":
        params["part"] = listing.part
    if listing.sort != DEFAULT_SORT:
        params["sort"] = listing.sort
    if listing.descending:
        params["desc"] = "1"
    if listing.after:
        params["after"] = listing.after
    return params


def parse_list(query: Mapping[str, object] | str, *, default_kpi: str) -> ListState:
    values = _single(query)
    part = values.get("part", "value")
    after = values.get("after")
    return ListState(
        kpi=_code(values.get("kpi")) or default_kpi,
        part=part if part in PARTS else "value",
        sort=_code(values.get("sort")) or DEFAULT_SORT,
        descending=values.get("desc") in {"1", "true"},
        after=after if after and _CURSOR.match(after) else None,
    )
