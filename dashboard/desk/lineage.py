"""The lineage panel: what a number is, how it was computed, from which source and run, data as of
when, and a link to the rows it counts (ReadModel.lineage)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.development.base_component import Component

from dashboard.data import read_model
from dashboard.desk import ids
from dashboard.desk.filter_bar import attr
from dashboard.desk.links import kpi_href, list_href
from dashboard.desk.texts import t
from dashboard.url import Filters, parse_filters
from ioc.auth.scoped import lineage as scoped_lineage
from ioc.formatting import NO_DATA, format_age, format_datetime, format_number
from ioc.kpi.periods import local_today


def _dl(items: list[tuple[str, Any]]) -> html.Dl:
    children: list[Component] = []
    for term, value in items:
        if value in (None, "", [], ()):
            continue
        children += [html.Dt(term, className="col-sm-4"), html.Dd(value, className="col-sm-8")]
    return html.Dl(children, className="row desk-dl")


def run_line(run: Any, lang: str) -> html.Li:
    rows = (
        f"{t('read', lang)} {format_number(attr(run, 'rows_read'))}, "
        f"{t('loaded', lang)} {format_number(attr(run, 'rows_loaded'))}, "
        f"{t('rejected', lang)} {format_number(attr(run, 'rows_rejected'))}"
    )
    error = attr(run, "error")
    return html.Li(
        [
            html.Strong(attr(run, "source") or ""),
            f" · {format_datetime(attr(run, 'finished_at') or attr(run, 'started_at'))}",
            f" · {attr(run, 'status')} · {rows}",
            html.Div(error, className="text-danger small") if error else None,
        ]
    )


def _thresholds(lineage: Any, lang: str) -> str | None:
    thresholds = attr(lineage, "thresholds")
    if not thresholds:
        return None
    green, amber, basis = thresholds
    suffix = " (% chỉ tiêu)" if basis == "percent_of_target" and lang == "vi" else ""
    return (
        f"{t('green', lang)} {format_number(green, 1)} · {t('amber', lang)} {format_number(amber, 1)}{suffix}"
    )


def _targets(lineage: Any) -> str | None:
    targets = attr(lineage, "targets") or ()
    parts = [
        format_number(value, 1) + (f" ({year})" if year else "") + (f" [{area}]" if area else "")
        for year, area, value in targets
    ]
    return "; ".join(parts) or None


def lineage_view(lineage: Any, filters: Filters, *, now: datetime | None = None) -> html.Div:
    lang = filters.lang
    kpi_id = attr(lineage, "kpi_id")
    words = attr(lineage, "description_en" if lang == "en" else "description_vi")
    data_as_of = attr(lineage, "data_as_of")
    age = (now or datetime.now(UTC)) - data_as_of if data_as_of else None
    runs = list(attr(lineage, "runs", ()) or ())
    return html.Div(
        [
            html.H4(attr(lineage, "name_en" if lang == "en" else "name_vi"), className="h5"),
            html.P(words or NO_DATA),
            _dl(
                [
                    (t("formula", lang), attr(lineage, "formula_vi")),
                    (t("unit", lang), attr(lineage, "unit_vi")),
                    (t("computed_from", lang), ", ".join(attr(lineage, "computed_from", ()) or ())),
                    (t("source", lang), ", ".join(attr(lineage, "sources", ()) or ())),
                    (t("data_as_of", lang), format_datetime(data_as_of) if data_as_of else None),
                    (t("data_age", lang), format_age(age, lang) if age is not None else None),
                    (t("freshness", lang), t(attr(lineage, "freshness") or "", lang)),
                    (t("owner", lang), attr(lineage, "owner")),
                    (t("legal_basis", lang), attr(lineage, "legal_source")),
                    (t("target", lang), _targets(lineage)),
                    (t("thresholds", lang), _thresholds(lineage, lang)),
                ]
            ),
            html.H5(t("runs", lang), className="h6"),
            html.Ul([run_line(run, lang) for run in runs[:5]] or [html.Li(NO_DATA)], className="small"),
            html.Div(
                [
                    dcc.Link(
                        t("rows_link", lang) + " →",
                        href=list_href(filters, kpi_id),
                        className="btn btn-primary btn-sm me-2",
                        id="desk-lineage-rows",
                    ),
                    dcc.Link(
                        t("definition", lang),
                        href=kpi_href(kpi_id, filters),
                        className="btn btn-outline-secondary btn-sm",
                    ),
                ]
            ),
        ],
        className="desk-lineage",
    )


DEPENDENCIES = (
    Output(ids.LINEAGE, "is_open"),
    Output(ids.LINEAGE_BODY, "children"),
    Input(ids.explain(ALL), "n_clicks"),  # type: ignore[arg-type]
    State(ids.STATE, "data"),
)


def open_lineage(clicks: list[int | None], state: dict[str, str]) -> tuple[bool, Component]:
    if not ctx.triggered_id or not any(clicks):
        return no_update, no_update
    filters = parse_filters(state.get("search", ""), local_today())
    kpi_id = ctx.triggered_id["kpi"]
    lineage = scoped_lineage(
        read_model(),
        kpi_id,
        area=filters.area or _province(),
        period=filters.period,
        filters=filters.row_filters(),  # checked against the reader's scope
    )
    return True, lineage_view(lineage, filters)


def _province() -> str:
    from dashboard.data import current_settings

    return current_settings().province.code
