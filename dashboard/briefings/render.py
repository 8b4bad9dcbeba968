"""HTML (Jinja2 template) → A4 PDF with WeasyPrint; charts embedded as SVG so they stay vector."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import jinja2

from dashboard.briefings.commentary import Sentence
from dashboard.briefings.content import STATUS_VI, Content, previous_text, target_text
from dashboard.desk.period_text import describe
from ioc.formatting import format_datetime

TEMPLATES = resources.files("dashboard.briefings") / "templates"


def css_string(value: str) -> str:
    """A value safe inside a CSS string literal (margin boxes' `content:`)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (TEMPLATES / name).read_text(encoding="utf-8")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        describe=describe, previous_text=previous_text, target_text=target_text, status_vi=STATUS_VI
    )
    return environment


def html(
    content: Content,
    sentences: list[Sentence],
    charts: Mapping[str, str],
    *,
    province_code: str,
    emblem: Path | None = None,
) -> str:
    """The briefing's HTML: `charts` maps a chart name to its SVG text."""
    where = "" if content.area == province_code else f" · {content.area_name}"
    where += f" · {content.departments_text}" if content.departments_text else ""
    header_right = f"{content.period_text}{where} · Số liệu đến {content.as_of_text}"
    return (
        _environment()
        .get_template("briefing.html")
        .render(
            c=content,
            sentences=sentences,
            charts={name: svg_uri(svg) for name, svg in charts.items()},
            emblem=emblem.resolve().as_uri() if emblem else None,
            province_code=province_code,
            stylesheet=jinja2.utils.markupsafe.Markup(
                (TEMPLATES / "briefing.css").read_text(encoding="utf-8")
            ),
            css=css_string,
            header_left=f"UBND {content.province} · Bản tin điều hành",
            header_right=header_right,
            footer_left="Số liệu từ hệ thống IOC; không chứa dữ liệu cá nhân",
            generated=format_datetime(content.generated_at),
        )
    )


def pdf(document: str, out: Path, *, base_url: str | None = None) -> Path:
    import weasyprint

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    weasyprint.HTML(string=document, base_url=base_url).write_pdf(partial)
    partial.replace(out)
    return out
