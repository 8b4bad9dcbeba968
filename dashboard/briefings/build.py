"""`build_briefing`: one area's briefing for one period as an A4 PDF (no Flask, no Dash app).

Used by `ioc briefing`, the worker's schedules and the desktop's "tải bản tin" button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import plotly.graph_objects as go

from dashboard import figures
from dashboard.briefings import charts, render
from dashboard.briefings.commentary import commentary
from dashboard.briefings.content import Content, collect
from ioc.kpi.periods import Period
from ioc.queries import ReadModel

Progress = Callable[[str], None]


def month_label(start: date) -> str:
    return f"{start.month:02d}/{start.year}"


def figures_of(content: Content) -> dict[str, go.Figure]:
    """The dashboard's own figure functions, fed the briefing's numbers."""
    series = content.on_time_series
    points = [replace(point, period=month_label(point.start)) for point in series.points]
    departments = content.departments.result
    return {
        "on_time_trend": figures.trend(
            points, title=f"{series.name_vi} · 12 tháng", unit=series.unit_vi, decimals=series.decimals
        ),
        "departments": figures.bars(
            [row for _, row in content.departments.ranked],
            title=content.departments.title,
            unit=departments.unit_vi,
            decimals=departments.decimals,
            limit=12,
        ),
        "incident_categories": figures.bars(
            content.incident_categories.known,
            title=content.incident_categories.title,
            unit=content.incident_categories.result.unit_vi,
            decimals=content.incident_categories.result.decimals,
        ),
        "digital_areas": figures.bars(
            [row for _, row in content.digital_areas.ranked],
            title=content.digital_areas.title,
            unit=content.digital_areas.result.unit_vi,
            decimals=content.digital_areas.result.decimals,
            limit=12,
        ),
    }


def build_briefing(
    read_model: ReadModel,
    period: str | Period,
    area: str | None = None,
    *,
    out: Path,
    emblem: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write the briefing PDF to `out` (atomically) and return its path."""
    say = progress or (lambda _message: None)
    charts.chromium_path()  # before any work: the fix is named at once
    with charts.exporter() as exporter:  # Chromium starts in kaleido's thread while the numbers are read
        say("Đọc số liệu…")
        content = collect(read_model, period, area)
        sentences = commentary(content)
        say("Vẽ biểu đồ…")
        svgs = {name: exporter.svg(figure) for name, figure in figures_of(content).items()}
    say("Dàn trang PDF…")
    document = render.html(
        content, sentences, svgs, province_code=read_model.settings.province.code, emblem=emblem
    )
    return render.pdf(document, Path(out))
