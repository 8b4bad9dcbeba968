"""The briefing's commentary: 3–6 short Vietnamese sentences written by rules from the numbers.

Nothing is invented: each sentence quotes values (`Sentence.values`) that the PDF also prints in
its tables (a test checks it). Rules, in order: the on-time rate against its target, the largest
change vs. the comparison period, the department furthest behind, overdue and due-soon dossiers,
targets at risk, stale sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.briefings.content import Content, previous_text, target_text
from ioc.formatting import format_age, lower_first
from ioc.queries import Tile

MAX_SENTENCES = 6
#: KPIs other rules already speak about (not repeated among the targets at risk).
QUOTED_ELSEWHERE = frozenset({"dossiers_on_time_rate", "dossiers_open_overdue", "dossiers_due_soon"})


@dataclass(frozen=True)
class Sentence:
    text: str
    values: tuple[str, ...]
    """The printed values the sentence quotes (each also appears in a table of the PDF)."""


def _tile(content: Content, kpi_id: str) -> Tile | None:
    return next((tile for tile in content.tiles() if tile.kpi_id == kpi_id and tile.value is not None), None)


def on_time(content: Content) -> Sentence | None:
    tile = _tile(content, "dossiers_on_time_rate")
    if tile is None:
        return None
    if tile.target is None:
        return Sentence(f"Tỷ lệ hồ sơ giải quyết đúng hạn đạt {tile.value_text()}.", (tile.value_text(),))
    reached = "đạt" if tile.status == "green" else "chưa đạt"
    return Sentence(
        f"Tỷ lệ hồ sơ giải quyết đúng hạn đạt {tile.value_text()}, {reached} chỉ tiêu {target_text(tile)}.",
        (tile.value_text(), target_text(tile)),
    )


def largest_change(content: Content) -> Sentence | None:
    moved = [
        tile
        for tile in content.headline
        if tile.value is not None
        and tile.previous
        and tile.delta is not None
        and tile.delta != 0
        and not tile.running  # a running month's count against a whole month is no change
    ]
    if not moved:
        return None
    tile = max(moved, key=lambda t: abs((t.delta or 0.0) / (t.previous or 1.0)))
    verb = "tăng" if (tile.delta or 0) > 0 else "giảm"
    direction = "lên" if verb == "tăng" else "xuống"
    return Sentence(
        f"Biến động lớn nhất: {lower_first(tile.name_vi)} {verb} từ {previous_text(tile)} "
        f"{direction} {tile.value_text()} so với kỳ trước.",
        (previous_text(tile), tile.value_text()),
    )


def department_behind(content: Content) -> Sentence | None:
    rows = content.departments.known
    if len(rows) < 2:
        return None
    worst = min(rows, key=lambda row: row.value or 0.0)
    value = content.departments.text(worst.value)
    return Sentence(f"{worst.label} có tỷ lệ giải quyết đúng hạn thấp nhất: {value}.", (value,))


def overdue(content: Content) -> Sentence | None:
    late = _tile(content, "dossiers_open_overdue")
    soon = _tile(content, "dossiers_due_soon")
    if late is None:
        return None
    if soon is None:
        return Sentence(f"Hiện còn {late.value_text()} quá hạn chưa giải quyết.", (late.value_text(),))
    return Sentence(
        f"Hiện còn {late.value_text()} quá hạn và {soon.value_text()} sắp đến hạn cần đôn đốc.",
        (late.value_text(), soon.value_text()),
    )


def targets_at_risk(content: Content) -> Sentence | None:
    seen: set[str] = set()
    risky = []
    for tile in content.tiles():
        if tile.status == "red" and tile.target is not None and tile.kpi_id not in seen:
            seen.add(tile.kpi_id)
            risky.append(tile)
    risky = [tile for tile in risky if tile.kpi_id not in QUOTED_ELSEWHERE][:2]
    if not risky:
        return None
    parts = [
        f"{lower_first(tile.name_vi)} ({tile.value_text()}, chỉ tiêu {target_text(tile)})" for tile in risky
    ]
    values = tuple(text for tile in risky for text in (tile.value_text(), target_text(tile)))
    return Sentence(f"Chỉ tiêu có nguy cơ không đạt: {'; '.join(parts)}.", values)


def stale_sources(content: Content) -> Sentence | None:
    if not content.stale:
        return None
    oldest = max(content.stale, key=lambda s: s.age.total_seconds() if s.age is not None else float("inf"))
    if oldest.age is None:
        return Sentence(f"Nguồn {oldest.source} chưa có số liệu; các chỉ số liên quan chưa đầy đủ.", ())
    age = format_age(oldest.age)
    others = len(content.stale) - 1
    more = f" (cùng {others} nguồn khác)" if others else ""
    return Sentence(
        f"Nguồn {oldest.source}{more} chưa cập nhật trong {age}; số liệu liên quan có thể chưa đầy đủ.",
        (age,),
    )


RULES = (on_time, largest_change, department_behind, overdue, targets_at_risk, stale_sources)


def commentary(content: Content) -> list[Sentence]:
    """The sentences the rules produce for these numbers, at most six."""
    found = [sentence for rule in RULES if (sentence := rule(content)) is not None]
    return found[:MAX_SENTENCES]
