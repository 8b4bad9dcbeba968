"""Plotly figures of the wall: dark, large type, vi-VN separators, no internet (no map tiles)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from dashboard.figures import RUNNING_NOTE, split_running
from ioc.wall.feeds import MapPoint

FONT = "Noto Sans, DejaVu Sans, sans-serif"
INK = "#e8eef7"
MUTED = "#9fb0c8"
GRID = "#24324a"
LINES = ("#4cc9f0", "#f4a261", "#80ed99", "#c77dff", "#ffd166")
SEVERITY = {1: "#4cc9f0", 2: "#ffd166", 3: "#ff595e"}


def _layout(scale: float) -> dict[str, Any]:
    return {
        "separators": ",.",
        "font": {"family": FONT, "color": INK, "size": round(24 * scale)},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {
            "l": round(90 * scale),
            "r": round(20 * scale),
            "t": round(10 * scale),
            "b": round(44 * scale),
        },
        "showlegend": False,
    }


def trend_figure(
    series: Sequence[tuple[str, Sequence[str], Sequence[float | None]]],
    *,
    decimals: int,
    scale: float,
    running_last: bool = False,
) -> go.Figure:
    """Lines of several series sharing the x axis (period labels); gaps stay gaps (no zeros). A last
    period still running (`running_last`) is a dotted stub marked "đang diễn ra", not a drop."""
    figure = go.Figure()
    for index, (name, labels, values) in enumerate(series):
        colour, width = LINES[index % len(LINES)], max(2, round(4 * scale))
        running = running_last and len(values) > 1
        finished, stub = split_running(values) if running else (list(values), [])
        figure.add_trace(
            go.Scatter(
                x=list(labels),
                y=finished,
                name=name,
                mode="lines+markers",
                connectgaps=False,
                line={"color": colour, "width": width},
                marker={"size": max(4, round(9 * scale))},
                hoverinfo="skip",
            )
        )
        if running:
            figure.add_trace(
                go.Scatter(
                    x=list(labels),
                    y=stub,
                    mode="lines+markers+text" if index == 0 else "lines+markers",
                    line={"color": colour, "width": width, "dash": "dot"},
                    marker={"size": max(6, round(12 * scale)), "symbol": "circle-open"},
                    text=[None] * (len(labels) - 1) + [RUNNING_NOTE["vi"]],
                    textposition="top left",
                    textfont={"size": round(22 * scale), "color": colour},
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
    figure.update_layout(
        **{**_layout(scale), "showlegend": len(series) > 1},
        legend={"orientation": "h", "y": 1.12, "x": 0, "font": {"size": round(24 * scale)}},
        yaxis={"gridcolor": GRID, "zeroline": False, "tickformat": f",.{decimals}f"},
        xaxis={"gridcolor": GRID, "showgrid": False, "type": "category", "nticks": 7},
    )
    return figure


def _boundary_traces(path: Path | None) -> list[go.Scatter]:
    """Outline of a boundary GeoJSON (Polygon/MultiPolygon rings) as plain lines."""
    if path is None or not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    features = data.get("features", [data])
    xs: list[float | None] = []
    ys: list[float | None] = []
    for feature in features:
        geometry = feature.get("geometry", feature)
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        for polygon in polygons:
            for ring in polygon:
                xs.extend([point[0] for point in ring] + [None])
                ys.extend([point[1] for point in ring] + [None])
    line = {"color": "#3d5a80", "width": 1.5}
    return [go.Scatter(x=xs, y=ys, mode="lines", line=line, hoverinfo="skip")]


def map_figure(points: Sequence[MapPoint], *, scale: float, boundary: Path | None = None) -> go.Figure:
    """Incident points on a plain dark plane (lon/lat, equal aspect): no tile server, no internet.
    A cluster is one marker whose size grows with its count and whose label says the count."""
    figure = go.Figure(_boundary_traces(boundary))
    for severity in sorted({p.severity for p in points}):
        group = [p for p in points if p.severity == severity]
        sizes = [(12 if p.count == 1 else min(96, 34 + 6 * p.count**0.5)) * scale for p in group]
        figure.add_trace(
            go.Scatter(
                x=[p.lon for p in group],
                y=[p.lat for p in group],
                mode="markers+text",
                text=[str(p.count) if p.count > 1 else "" for p in group],
                textfont={"size": round(24 * scale), "color": "#0b1320"},
                marker={
                    "size": sizes,
                    "color": SEVERITY.get(severity, "#ff595e"),
                    "opacity": 0.85,
                    "line": {"width": 0},
                },
                hoverinfo="skip",
            )
        )
    axis = {"visible": False, "showgrid": False, "zeroline": False}
    figure.update_layout(
        **{**_layout(scale), "margin": {"l": 4, "r": 4, "t": 4, "b": 4}},
        xaxis=axis,
        yaxis={**axis, "scaleanchor": "x", "scaleratio": 1.1},
    )
    return figure
