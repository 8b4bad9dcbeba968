"""Freshness badge: how old a tile's data is, and whether its source is late or failed (DESIGN §6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from dash import html

from ioc.formatting import format_age

LABELS = {
    "fresh": "Dữ liệu",
    "stale": "Chậm cập nhật",
    "failed": "Lỗi đồng bộ",
    "never_loaded": "Chưa có dữ liệu",
}


class HasFreshness(Protocol):
    freshness: str
    data_age: timedelta | None

    def freshness_note(self) -> str: ...


def freshness_text(item: HasFreshness) -> str:
    """'Dữ liệu 12 phút trước', 'Chậm cập nhật · 2 ngày 3 giờ', 'Lỗi đồng bộ · …'. Whole minutes only,
    so a tile's text (and the wall's per-tile hash) changes at most once a minute, not every refresh."""
    label = LABELS.get(item.freshness, item.freshness)
    if item.freshness == "never_loaded" or item.data_age is None:
        return label
    minutes = int(item.data_age.total_seconds() // 60)
    if minutes < 1:
        return f"{label} vừa cập nhật" if item.freshness == "fresh" else label
    age = format_age(timedelta(minutes=minutes))
    if item.freshness == "fresh":
        return f"{label} {age} trước"
    return f"{label} · {age}"


def freshness_badge(item: HasFreshness) -> html.Span:
    """A small badge; `ioc-fresh-<state>` classes colour it (wall.css, ioc.css)."""
    title = item.freshness_note() or None
    return html.Span(freshness_text(item), className=f"ioc-freshness ioc-fresh-{item.freshness}", title=title)
