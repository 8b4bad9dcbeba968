"""Figures are pure plotly: the project's font and vi-VN separators, gaps kept, keys for drill-down."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboard import figures


@dataclass
class Row:
    key: str | None
    label: str
    value: float | None
    status: str = "none"


@dataclass
class Point:
    period: str
    start: date
    value: float | None
    target: float | None = None
    running: bool = False


def _layout(figure) -> dict:  # the template's layout merged under the figure's own
    return figure.layout.template.layout.to_plotly_json() | figure.layout.to_plotly_json()


def test_template_sets_font_and_vietnamese_separators() -> None:
    figure = figures.bars([Row("a", "Sở Tư pháp", 1234.5, "green")], title="T")
    layout = _layout(figure)
    assert layout["separators"] == ",."
    assert layout["font"]["family"].startswith("Noto Sans")


def test_bars_keep_keys_colours_and_skip_missing_values() -> None:
    rows = [
        Row("STP", "Sở Tư pháp", 97.0, "green"),
        Row("SXD", "Sở Xây dựng", None),
        Row("SYT", "Sở Y tế", 80.0, "red"),
    ]
    figure = figures.bars(rows, title="Tỷ lệ", decimals=1, target=95)
    bar = figure.data[0]
    assert list(bar.customdata) == ["STP", "SYT"]
    assert list(bar.x) == [97.0, 80.0]
    assert list(bar.marker.color) == [figures.STATUS_COLOURS["green"], figures.STATUS_COLOURS["red"]]
    assert ",.1f" in bar.hovertemplate
    assert figure.layout.shapes[0].x0 == 95


def test_no_values_gives_a_no_data_figure_not_zeros() -> None:
    figure = figures.bars([Row("a", "A", None)], title="T")
    assert not figure.data
    assert figure.layout.annotations[0].text == "Không có dữ liệu"
    assert figures.empty("T", "en").layout.annotations[0].text == "No data"


def test_trend_keeps_gaps_and_draws_targets() -> None:
    points = [Point("2026-09", date(2026, 9, 1), 90.0, 95), Point("2026-10", date(2026, 10, 1), None, 95)]
    figure = figures.trend(points, title="T")
    assert list(figure.data[0].y) == [90.0, None]
    assert list(figure.data[1].y) == [95, 95]
    assert figure.data[0].connectgaps is False


def test_a_running_last_period_is_a_dotted_stub_not_a_drop() -> None:
    points = [
        Point("2026-10", date(2026, 10, 1), 11_900),
        Point("2026-11", date(2026, 11, 1), 11_831),
        Point("2026-12", date(2026, 12, 1), 17, running=True),
    ]
    figure = figures.trend(points, title="T")
    assert list(figure.data[0].y) == [11_900, 11_831, None]  # the line ends with the last whole month
    assert list(figure.data[1].y) == [None, 11_831, 17] and figure.data[1].line.dash == "dot"
    assert list(figure.data[1].text) == [None, None, "đang diễn ra"]
    assert len(figures.trend(points[:2], title="T").data) == 1  # finished periods: one line


def test_area_map_needs_no_tiles_and_drops_unplaced_areas() -> None:
    frame = pd.DataFrame(
        {
            "key": ["x1", "x2"],
            "label": ["Xã 1", "Xã 2"],
            "lat": [12.6, None],
            "lon": [108.0, 108.1],
            "value": [5, 9],
        }
    )
    figure = figures.area_map(frame, title="Sự cố")
    assert figure.data[0].type == "scatter"  # a plain scatter: no mapbox/geo layer fetching tiles
    assert list(figure.data[0].customdata) == ["x1"]


def test_trajectory_draws_target_pace_and_actual() -> None:
    figure = figures.trajectory(
        [(date(2026, 3, 31), 30.0), (date(2026, 6, 30), None)],
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        target=100,
        title="T",
    )
    assert list(figure.data[0].y) == [0, 100]
    assert list(figure.data[1].y) == [30.0]


def test_figures_module_does_not_import_dash() -> None:
    code = "import sys, dashboard.figures; print('dash' in sys.modules, 'flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_the_wall_trend_draws_a_running_last_period_dotted_for_every_line() -> None:
    from dashboard.wall.figures import trend_figure

    lines = [("Tiếp nhận", ["10/2026", "11/2026", "12/2026"], [11_900, 11_831, 17])]
    lines.append(("Giải quyết", lines[0][1], [11_500, 11_600, 0]))
    figure = trend_figure(lines, decimals=0, scale=0.5, running_last=True)
    assert [list(trace.y) for trace in figure.data] == [
        [11_900, 11_831, None],
        [None, 11_831, 17],
        [11_500, 11_600, None],
        [None, 11_600, 0],
    ]
    assert figure.data[1].line.dash == "dot" and figure.data[1].text[-1] == "đang diễn ra"
    assert len(trend_figure(lines, decimals=0, scale=0.5).data) == 2
