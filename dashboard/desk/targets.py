"""Target trajectories on the desktop: KPIs with an annual target show where they should be today,
'đúng tiến độ / chậm tiến độ', and the date the target is reached at the current pace."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from dashboard import figures
from dashboard.desk.parts import value_text
from dashboard.desk.texts import t
from ioc.formatting import format_date, format_percent
from ioc.kpi.periods import month, parse_period
from ioc.kpi.trajectory import Trajectory, trajectory

# KPI -> (KPI holding its annual target, or None for the YAML target; "flow" from 0 or "stock" from
# the value at the end of the previous year)
TRAJECTORIES: dict[str, tuple[str | None, str]] = {
    "vneid_level2_activations": ("vneid_target", "stock"),
    "budget_revenue_ytd": ("budget_revenue_plan", "flow"),
    "exports_ytd": (None, "flow"),
    "fdi_registered_ytd": (None, "flow"),
}


def _month_ends(year: int, last: date) -> list[str]:
    return [month(year, m).label for m in range(1, last.month + 1)] if last.year == year else []


def compute(
    rm: Any, kpi_id: str, area: str, period: str, today: date
) -> tuple[Trajectory, list[Any], float] | None:
    """The trajectory for the year of `period`, measured on its last day (or today), with the
    monthly points of the year so far; None when the KPI has no annual target or no value yet."""
    if kpi_id not in TRAJECTORIES:
        return None
    target_kpi, kind = TRAJECTORIES[kpi_id]
    last_day = min(parse_period(period, today=today).end - timedelta(days=1), today)
    year = last_day.year
    target = (
        rm.result(target_kpi, area=area, period=str(year)).value
        if target_kpi
        else rm.library.get(kpi_id).target_for(year, area)
    )
    points = rm.series(kpi_id, area=area, periods=_month_ends(year, last_day)).points
    actual = next((p.value for p in reversed(points) if p.value is not None), None)
    if target is None or actual is None:
        return None
    baseline = 0.0
    if kind == "stock":
        baseline = rm.result(kpi_id, area=area, period=f"{year - 1}-12").value or 0.0
    result = trajectory(
        actual, target, start=date(year, 1, 1), end=date(year + 1, 1, 1), on=last_day, baseline=baseline
    )
    return result, list(points), baseline


def panel(rm: Any, kpi_id: str, area: str, period: str, lang: str, today: date) -> Component:
    found = compute(rm, kpi_id, area, period, today)
    kpi = rm.library.get(kpi_id)
    if found is None:
        return html.P(t("no_data", lang), className="text-muted")
    result, points, baseline = found
    unit = kpi.unit.en if lang == "en" else kpi.unit.vi
    colour = "success" if result.on_track or result.reached else "danger"
    year = points[-1].start.year if points else today.year
    facts = [
        (t("target", lang), value_text(result.target, unit, kpi.decimals, lang)),
        (t("expected_today", lang), value_text(result.expected, unit, kpi.decimals, lang)),
        (
            t("value", lang),
            f"{value_text(result.actual, unit, kpi.decimals, lang)} ({format_percent(result.progress)})",
        ),
        (t("reach_date", lang), format_date(result.reach_date) if result.reach_date else "—"),
    ]
    month_ends = [(min(parse_period(p.period).end - timedelta(days=1), today), p.value) for p in points]
    figure = figures.trajectory(
        month_ends,
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        target=result.target,
        title=kpi.name.en if lang == "en" else kpi.name.vi,
        unit=unit,
        decimals=kpi.decimals,
        lang=lang,
        baseline=baseline,
    )
    return html.Div(
        [
            dbc.Badge(result.status_text(lang), color=colour, className="mb-2 desk-trajectory-status"),
            html.Dl(
                [
                    item
                    for term, value in facts
                    for item in (html.Dt(term, className="col-sm-5"), html.Dd(value, className="col-sm-7"))
                ],
                className="row desk-dl small",
            ),
            dcc.Graph(figure=figure, config={"displayModeBar": False}, className="desk-graph"),
        ],
        className="desk-trajectory",
    )
