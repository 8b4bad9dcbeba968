"""The KPI catalogue and one page per KPI: definition in words, formula, source, owner, legal basis,
target, thresholds, history (and the trajectory when the KPI has an annual target)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.desk import numbers, targets
from dashboard.desk.domains import DOMAIN_PAGES
from dashboard.desk.lineage import lineage_view
from dashboard.desk.links import kpi_href
from dashboard.desk.parts import cell, number_card, section, value_text
from dashboard.desk.period_text import describe
from dashboard.desk.services import trend_chart
from dashboard.desk.texts import t
from dashboard.url import Filters
from ioc.kpi.periods import local_today

TYPES_VI = {
    "count": "Đếm",
    "sum": "Tổng",
    "ratio": "Tỷ lệ",
    "latest": "Giá trị chuỗi số liệu",
    "derived": "Tính từ chỉ số khác",
    "growth": "Tăng trưởng",
    "percentile": "Trung vị / phân vị",
}


def catalogue(rm: Any, filters: Filters, province: str) -> list[Component]:
    lang = filters.lang
    parts: list[Component] = []
    for domain, page in DOMAIN_PAGES.items():
        kpis = rm.kpis(domain)
        head = html.Thead(
            html.Tr([html.Th(t(k, lang)) for k in ("kpi", "unit", "formula", "target", "owner")])
        )
        body = html.Tbody(
            [
                html.Tr(
                    [
                        html.Td(
                            dcc.Link(
                                kpi.name.en if lang == "en" else kpi.name.vi, href=kpi_href(kpi.id, filters)
                            )
                        ),
                        html.Td(kpi.unit.en if lang == "en" else kpi.unit.vi),
                        html.Td(kpi.type if lang == "en" else TYPES_VI.get(kpi.type, kpi.type)),
                        html.Td(
                            "; ".join(
                                cell(target.value) + (f" ({target.year})" if target.year else "")
                                for target in kpi.targets
                            )
                            or "—"
                        ),
                        html.Td(kpi.owner),
                    ]
                )
                for kpi in kpis
            ]
        )
        parts.append(
            section(
                t(page, lang),
                lambda head=head, body=body: dbc.Table(
                    [head, body], size="sm", hover=True, className="desk-table"
                ),
                lang,
            )
        )
    return parts


def kpi_page(rm: Any, filters: Filters, province: str, kpi_id: str) -> list[Component]:
    lang = filters.lang
    area = numbers.area_of(filters, province)
    if kpi_id not in rm.library:
        return [dbc.Alert(f"{t('kpi', lang)} {kpi_id!r}: {t('no_data', lang)}", color="warning")]
    parts: list[Component] = [
        html.P(describe(filters.period, lang), className="text-muted mb-2 desk-period"),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        t("value", lang),
                        lambda: number_card(
                            numbers.tiles(rm, [kpi_id], filters, province)[kpi_id], filters, kpi_id=kpi_id
                        ),
                        lang,
                    ),
                    lg=4,
                ),
                dbc.Col(
                    section(
                        t("history", lang),
                        lambda: [
                            trend_chart(rm, kpi_id, filters, province),
                            history_table(rm, kpi_id, filters, province),
                        ],
                        lang,
                    ),
                    lg=8,
                ),
            ]
        ),
        section(
            t("definition", lang),
            lambda: lineage_view(rm.lineage(kpi_id, area=area, period=filters.period), filters),
            lang,
        ),
    ]
    if kpi_id in targets.TRAJECTORIES:
        parts.insert(
            2,
            section(
                t("trajectory", lang),
                lambda: targets.panel(rm, kpi_id, area, filters.period, lang, local_today()),
                lang,
            ),
        )
    return parts


def history_table(rm: Any, kpi_id: str, filters: Filters, province: str) -> dbc.Table:
    lang = filters.lang
    series = numbers.series(
        rm, kpi_id, filters, province, count=12, end=numbers.grain_end(rm, kpi_id, filters)
    )
    unit = series.unit_vi
    head = html.Thead(
        html.Tr(
            [
                html.Th(t("period", lang)),
                html.Th(t("value", lang), className="text-end"),
                html.Th(t("target", lang), className="text-end"),
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(describe(point.period, lang)),
                    html.Td(value_text(point.value, unit, series.decimals, lang), className="text-end"),
                    html.Td(
                        value_text(point.target, unit, series.decimals, lang)
                        if point.target is not None
                        else "—",
                        className="text-end",
                    ),
                ]
            )
            for point in reversed(series.points)
        ]
    )
    return dbc.Table([head, body], size="sm", className="desk-table mt-2")
