"""Pure figure builders: read-model results or DataFrames -> `go.Figure`, shared by pages and briefings.

No Dash imports: the PDF briefing exports the same figures with kaleido. Every figure uses the `ioc`
template (explicit Noto Sans / DejaVu Sans font, vi-VN separators `",."`, so 1234,5 shows `1.234,5`).
A missing value stays a gap, never a zero. Bars and map points carry their key in `customdata`, which
the desktop turns into a drill-down link.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Protocol

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

FONT_FAMILY = "Noto Sans, DejaVu Sans, sans-serif"
SEPARATORS = ",."
STATUS_COLOURS = {"green": "#2a9d8f", "amber": "#e9a23b", "red": "#c1121f", "none": "#5c7893"}
ACCENT = "#1d4e89"
TARGET_COLOUR = "#6c757d"
NO_DATA_TEXT = {"vi": "Không có dữ liệu", "en": "No data"}


class BarRow(Protocol):
    key: str | None
    label: str
    value: float | None
    status: str


class Point(Protocol):
    period: str
    start: date
    value: float | None
    target: float | None
    running: bool


RUNNING_NOTE = {"vi": "đang diễn ra", "en": "in progress"}


def split_running(values: Sequence[float | None]) -> tuple[list[float | None], list[float | None]]:
    """(finished, running): the line without its last value, and the dotted stub from the last but one
    value to the last, for a last period still running (a part of a month is no drop)."""
    finished: list[float | None] = [*values[:-1], None]
    stub: list[float | None] = [None] * len(values)
    stub[-2:] = values[-2:]
    return finished, stub


@functools.cache
def template() -> go.layout.Template:
    """The `ioc` template, built at the first figure (not at import): plotly_white's layout and the
    defaults of the two trace types we draw, nothing else. A figure copies its whole template, and
    plotly_white's defaults for ~40 trace types made every figure cost ~13 ms to build and ~7 KB more
    to send (4 ms with this one)."""
    base = pio.templates["plotly_white"]
    built = go.layout.Template(layout=base.layout, data={"bar": base.data.bar, "scatter": base.data.scatter})
    built.layout.update(
        font={"family": FONT_FAMILY, "size": 13, "color": "#1b263b"},
        separators=SEPARATORS,
        colorway=[ACCENT, "#2a9d8f", "#e9a23b", "#c1121f", "#7b2cbf", "#5c7893"],
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title={"font": {"size": 15}, "x": 0, "xanchor": "left"},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        legend={"orientation": "h", "y": -0.15},
    )
    return built


def _number_format(decimals: int) -> str:
    return f",.{max(decimals, 0)}f"


def empty(title: str, lang: str = "vi") -> go.Figure:
    """A figure that says there is no data (never an empty axis that looks like zero)."""
    figure = go.Figure(layout={"template": template(), "title": title})
    figure.add_annotation(text=NO_DATA_TEXT[lang], showarrow=False, font={"size": 16, "color": "#8d99ae"})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def bars(
    rows: Sequence[BarRow],
    *,
    title: str,
    unit: str = "",
    decimals: int = 0,
    target: float | None = None,
    lang: str = "vi",
    limit: int = 25,
) -> go.Figure:
    """Horizontal bars of a breakdown, best first as given, coloured by status; a dotted target line."""
    shown = [row for row in rows if row.value is not None][:limit]
    if not shown:
        return empty(title, lang)
    number = _number_format(decimals)
    figure = go.Figure(
        go.Bar(
            x=[row.value for row in shown],
            y=[row.label for row in shown],
            orientation="h",
            customdata=[row.key for row in shown],
            marker_color=[STATUS_COLOURS.get(row.status, STATUS_COLOURS["none"]) for row in shown],
            text=[row.value for row in shown],
            texttemplate=f"%{{x:{number}}}",
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{y}}: %{{x:{number}}} {unit}<extra></extra>",
        ),
        layout={"template": template(), "title": title},
    )
    if target is not None:
        figure.add_vline(x=target, line_dash="dot", line_color=TARGET_COLOUR)
    top = max([row.value for row in shown if row.value is not None] + [target or 0])
    if top > 0:  # room for the numbers written outside the bars
        figure.update_xaxes(range=[0, top * 1.15])
    figure.update_yaxes(autorange="reversed", automargin=True)
    figure.update_layout(height=max(260, 60 + 26 * len(shown)), clickmode="event")
    return figure


def trend(
    points: Sequence[Point],
    *,
    title: str,
    unit: str = "",
    decimals: int = 0,
    lang: str = "vi",
    name: str = "",
) -> go.Figure:
    """A series over periods; its targets, when it has any, as a dashed line. Gaps stay gaps."""
    if not any(point.value is not None for point in points):
        return empty(title, lang)
    number = _number_format(decimals)
    labels = [point.period for point in points]
    values = [point.value for point in points]
    running = len(points) > 1 and points[-1].running
    finished, stub = split_running(values) if running else (values, [])
    figure = go.Figure(
        go.Scatter(
            x=labels,
            y=finished,
            mode="lines+markers",
            name=name or title,
            line={"color": ACCENT, "width": 2.5},
            connectgaps=False,
            customdata=labels,
            hovertemplate=f"%{{x}}: %{{y:{number}}} {unit}<extra></extra>",
        ),
        layout={"template": template(), "title": title},
    )
    if running:
        figure.add_scatter(
            x=labels,
            y=stub,
            mode="lines+markers+text",
            name=RUNNING_NOTE[lang],
            line={"color": ACCENT, "width": 2, "dash": "dot"},
            marker={"symbol": "circle-open", "size": 9},
            text=[None] * (len(labels) - 1) + [RUNNING_NOTE[lang]],
            textposition="top left",
            customdata=labels,
            hovertemplate=f"%{{x}} ({RUNNING_NOTE[lang]}): %{{y:{number}}} {unit}<extra></extra>",
        )
    if any(point.target is not None for point in points):
        figure.add_scatter(
            x=labels,
            y=[point.target for point in points],
            mode="lines",
            name="Chỉ tiêu" if lang == "vi" else "Target",
            line={"color": TARGET_COLOUR, "dash": "dash"},
            hovertemplate=f"%{{x}}: %{{y:{number}}} {unit}<extra></extra>",
        )
    figure.update_yaxes(tickformat=",", rangemode="tozero")
    figure.update_xaxes(type="category")
    figure.update_layout(height=300, showlegend=False)
    return figure


def area_map(
    frame: pd.DataFrame, *, title: str, unit: str = "", decimals: int = 0, lang: str = "vi"
) -> go.Figure:
    """Bubbles at areas' coordinates (columns key, label, lat, lon, value): no map tiles, no internet.

    Longitude and latitude keep their proportions (one degree of latitude ≈ one of longitude here)."""
    shown = frame.dropna(subset=["lat", "lon", "value"])
    if shown.empty:
        return empty(title, lang)
    number = _number_format(decimals)
    biggest = float(shown["value"].max()) or 1.0
    figure = go.Figure(
        go.Scatter(
            x=shown["lon"],
            y=shown["lat"],
            mode="markers",
            text=shown["label"],
            customdata=shown["key"],
            marker={
                "size": (8 + 40 * (shown["value"] / biggest) ** 0.5).tolist(),
                "color": shown["value"],
                "colorscale": [[0, "#cfe1f2"], [1, "#c1121f"]],
                "line": {"width": 1, "color": "#ffffff"},
                "showscale": True,
                "colorbar": {"thickness": 10, "tickformat": ","},
            },
            hovertemplate=f"%{{text}}: %{{marker.color:{number}}} {unit}<extra></extra>",
        ),
        layout={"template": template(), "title": title},
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    figure.update_layout(height=420, plot_bgcolor="#f4f6f8", clickmode="event")
    return figure


def trajectory(
    actual: Sequence[tuple[date, float | None]],
    *,
    start: date,
    end: date,
    target: float,
    title: str,
    unit: str = "",
    decimals: int = 0,
    lang: str = "vi",
    baseline: float = 0.0,
) -> go.Figure:
    """Cumulative progress against the straight line from `baseline` on `start` to `target` on `end`."""
    known = [(day, value) for day, value in actual if value is not None]
    if not known:
        return empty(title, lang)
    number = _number_format(decimals)
    figure = go.Figure(layout={"template": template(), "title": title})
    figure.add_scatter(
        x=[start, end],
        y=[baseline, target],
        mode="lines",
        name="Tiến độ chỉ tiêu" if lang == "vi" else "Target pace",
        line={"color": TARGET_COLOUR, "dash": "dash"},
        hovertemplate=f"%{{x|%d/%m/%Y}}: %{{y:{number}}} {unit}<extra></extra>",
    )
    figure.add_scatter(
        x=[day for day, _ in known],
        y=[value for _, value in known],
        mode="lines+markers",
        name="Thực hiện" if lang == "vi" else "Actual",
        line={"color": ACCENT, "width": 2.5},
        hovertemplate=f"%{{x|%d/%m/%Y}}: %{{y:{number}}} {unit}<extra></extra>",
    )
    figure.update_xaxes(tickformat="%m/%Y")
    figure.update_yaxes(tickformat=",", rangemode="tozero")
    figure.update_layout(height=300, legend={"orientation": "h", "y": -0.2})
    return figure
