"""One KPI tile for every screen (wall and desktop): value, unit, delta, target, status, sparkline,
data age. It renders a read-model `Tile` (ioc.queries) and knows nothing of where it is placed:
`variant` only adds a CSS class (`kpi-tile--wall`, `kpi-tile--desk`), the stylesheets do the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from dash import html

from dashboard.components.freshness import freshness_badge
from dashboard.desk.period_text import ROMAN, describe
from ioc.formatting import format_number, lower_first

STATUS_LABELS = {"green": "Đạt", "amber": "Cần chú ý", "red": "Không đạt", "none": ""}


class TileLike(Protocol):
    """What the tile reads of `ioc.queries.Tile`."""

    kpi_id: str
    name_vi: str
    unit_vi: str
    decimals: int
    direction: str
    value: float | None
    previous: float | None
    delta: float | None
    previous_period: str | None
    running: bool
    target: float | None
    status: str
    period: str
    observed_period: str | None
    freshness: str
    data_age: timedelta | None
    sparkline: Sequence[float | None]

    def freshness_note(self) -> str: ...


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def period_text(label: str, short: bool = False) -> str:
    """'2026-11' → 'tháng 11/2026' ('11/2026' short), '2026-Q3' → 'quý III/2026' ('Q3/2026', the
    Roman numeral as the filter and briefings write it); other kinds as reports name them ('Từ đầu
    năm đến 30/11/2026', 'Từ 01/02/2025 đến 31/12/2025')."""
    if match := _MONTH.match(label):
        return f"{match[2]}/{match[1]}" if short else f"tháng {match[2]}/{match[1]}"
    if match := _QUARTER.match(label):
        return f"Q{match[2]}/{match[1]}" if short else f"quý {ROMAN[int(match[2]) - 1]}/{match[1]}"
    return describe(label)


def compared_with(label: str) -> str:
    """'so với tháng 11/2026', 'so với từ 02/08/2026 đến 31/08/2026': the period inside a sentence."""
    return f"so với {lower_first(period_text(label))}"


def _number(value: float | None, decimals: int) -> str:
    return format_number(value, decimals) if value is not None else "—"


def _delta(tile: TileLike) -> html.Div:
    if tile.running and tile.previous is not None and tile.previous_period:
        # a period still running: no arrow, the whole previous period for scale ("Cả tháng 11/2026")
        whole = f"Cả {lower_first(period_text(tile.previous_period))}:"
        return html.Div(
            [html.Span(whole), html.Span(f" {format_number(tile.previous, tile.decimals)}")],
            className="kpi-tile__delta kpi-tile__delta--neutral kpi-tile__delta--running",
        )
    if tile.delta is None:
        return html.Div("Không có kỳ so sánh", className="kpi-tile__delta kpi-tile__delta--none")
    arrow = "▲" if tile.delta > 0 else "▼" if tile.delta < 0 else "■"
    good = {"higher_is_better": tile.delta > 0, "lower_is_better": tile.delta < 0}.get(tile.direction)
    tone = "neutral" if good is None or tile.delta == 0 else ("good" if good else "bad")
    sign = "+" if tile.delta > 0 else "−" if tile.delta < 0 else "±"
    text = f"{arrow} {sign}{format_number(abs(tile.delta), tile.decimals)}"
    since = f" {compared_with(tile.previous_period)}" if tile.previous_period else ""
    return html.Div(
        [html.Span(text, className="kpi-tile__delta-value"), html.Span(since)],
        className=f"kpi-tile__delta kpi-tile__delta--{tone}",
    )


def sparkline(values: Sequence[float | None], status: str = "none") -> html.Div:
    """Bars as plain HTML (crisp at any size, no chart library): None is an empty slot, never 0."""
    numbers = [v for v in values if v is not None]
    if len(numbers) < 2:
        return html.Div(className="kpi-tile__spark kpi-tile__spark--empty")
    low, high = min(numbers), max(numbers)
    floor = low - (high - low) * 0.25 if high > low else low - 1
    bars: list[Any] = []
    for index, value in enumerate(values):
        if value is None:
            bars.append(html.Span(className="kpi-tile__bar kpi-tile__bar--gap"))
            continue
        height = 8 + 92 * (value - floor) / ((high - floor) or 1)
        last = " kpi-tile__bar--last" if index == len(values) - 1 else ""
        bars.append(html.Span(className=f"kpi-tile__bar{last}", style={"height": f"{height:.0f}%"}))
    return html.Div(bars, className=f"kpi-tile__spark kpi-tile__spark--{status}")


def kpi_tile(
    tile: TileLike, *, title: str | None = None, variant: str = "wall", show_sparkline: bool = True
) -> html.Div:
    """The tile's content. The caller wraps it (grid cell, card) and gives the pattern-matching id."""
    value = _number(tile.value, tile.decimals) if tile.value is not None else "Không có dữ liệu"
    has_value = tile.value is not None
    parts: list[Any] = [
        html.Div(
            [html.Span(title or tile.name_vi, className="kpi-tile__title"), freshness_badge(tile)],
            className="kpi-tile__head",
        ),
        html.Div(
            [
                html.Span(value, className="kpi-tile__value" if has_value else "kpi-tile__value--none"),
                html.Span(tile.unit_vi, className="kpi-tile__unit") if has_value else None,
            ],
            className="kpi-tile__main",
        ),
        _delta(tile),
        html.Div(
            [
                html.Span(
                    f"Chỉ tiêu {_number(tile.target, tile.decimals)}" if tile.target is not None else ""
                ),
                html.Span(STATUS_LABELS.get(tile.status, ""), className="kpi-tile__status-label"),
                html.Span(
                    period_text(tile.observed_period or tile.period) + (" (đến nay)" if tile.running else ""),
                    className="kpi-tile__period",
                ),
            ],
            className="kpi-tile__foot",
        ),
    ]
    if show_sparkline:
        parts.append(sparkline(tile.sparkline, tile.status))
    classes = f"kpi-tile kpi-tile--{variant} kpi-tile--{tile.status} ioc-fresh-{tile.freshness}"
    return html.Div(parts, className=classes, **{"data-kpi": tile.kpi_id})
