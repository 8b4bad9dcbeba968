"""How periods are named on tiles, filters and briefings (one wording everywhere)."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.components.kpi_tile import compared_with, period_text
from dashboard.desk.period_text import describe


@pytest.mark.parametrize(
    ("label", "long", "short"),
    [
        ("2026-11", "tháng 11/2026", "11/2026"),
        ("2026-Q3", "quý III/2026", "Q3/2026"),
        ("2026-Q1", "quý I/2026", "Q1/2026"),
        ("2026-6M", "6 tháng đầu năm 2026", "6 tháng đầu năm 2026"),
        ("2025-02-01..2025-12-31", "Từ 01/02/2025 đến 31/12/2025", "Từ 01/02/2025 đến 31/12/2025"),
    ],
)
def test_tiles_name_periods_as_reports_do(label: str, long: str, short: str) -> None:
    assert period_text(label) == long
    assert period_text(label, short=True) == short


def test_tile_and_filter_name_a_quarter_alike() -> None:
    assert (describe("2026-Q4"), period_text("2026-Q4")) == ("Quý IV/2026", "quý IV/2026")
    assert describe("2026-YTD", today=date(2026, 11, 30)) == "Từ đầu năm đến 30/11/2026"


@pytest.mark.parametrize(
    ("label", "phrase"),
    [
        ("2026-11", "so với tháng 11/2026"),
        ("2025", "so với năm 2025"),
        ("2026-08-02..2026-08-31", "so với từ 02/08/2026 đến 31/08/2026"),
        ("2025-6M", "so với 6 tháng đầu năm 2025"),
    ],
)
def test_a_comparison_names_its_period_inside_the_sentence(label: str, phrase: str) -> None:
    assert compared_with(label) == phrase
