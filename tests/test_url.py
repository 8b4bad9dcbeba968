"""Desktop filters survive the round trip through the query string; bad values are dropped."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.url import Filters, ListState, parse_filters, parse_list, to_search

TODAY = date(2026, 11, 30)


def test_defaults_give_the_current_month_and_write_only_the_period() -> None:
    filters = parse_filters("", TODAY)
    assert filters == Filters(period="2026-11")
    assert to_search(filters) == "?period=2026-11"


@pytest.mark.parametrize(
    "filters",
    [
        Filters(period="2026-Q3", compare="same_period_last_year", area="66001", department="STP"),
        Filters(period="2026-6M", procedure="1.001234", channel="online", lang="en"),
        Filters(period="2026-YTD", category="traffic_accident", compare="none"),
        Filters(period="2026-01-05..2026-03-20", area="66"),
    ],
)
def test_round_trip(filters: Filters) -> None:
    search = to_search(filters)
    assert parse_filters(search, TODAY) == filters
    # Dash Pages hands the page `layout(**query)` a dict of the same parameters
    assert parse_filters(dict(p.split("=", 1) for p in search[1:].split("&")), TODAY) == filters


def test_order_is_fixed_so_links_compare_equal() -> None:
    filters = Filters(period="2026-10", lang="en", channel="online", area="66", department="STP")
    assert to_search(filters) == "?period=2026-10&area=66&dept=STP&channel=online&lang=en"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?period=2026-13", Filters(period="2026-11")),
        ("?period=nonsense&compare=sideways&lang=fr", Filters(period="2026-11")),
        ("?period=2026-Q2&area=66%27%3B+drop+table", Filters(period="2026-Q2")),
        ("?dept=&proc=%20", Filters(period="2026-11")),
        ("?period=2026-q4", Filters(period="2026-Q4")),
    ],
)
def test_bad_values_are_dropped(query: str, expected: Filters) -> None:
    assert parse_filters(query, TODAY) == expected


def test_row_filters_and_description() -> None:
    filters = Filters(period="2026-10", area="66", department="STP", channel="online")
    assert filters.row_filters() == {"department": "STP", "channel": "online"}
    assert ("department", "STP") in filters.describe() and ("area", "66") in filters.describe()


def test_list_state_round_trip() -> None:
    filters = Filters(period="2026-10", department="STP")
    listing = ListState(
        kpi="dossiers_open_overdue",
        part="numerator",
        sort="received_at",
        descending=True,
        after="eyJrIjoxfQ==",
    )
    search = to_search(filters, listing)
    assert parse_list(search, default_kpi="x") == listing
    assert parse_filters(search, TODAY) == filters
    assert parse_list("?kpi=a%20b&part=all&after=%3Cscript%3E", default_kpi="x") == ListState(kpi="x")
