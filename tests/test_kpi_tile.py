"""The tile's change line: an arrow and a tone for a finished period, the scale for a running one."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from dashboard.components.kpi_tile import kpi_tile
from ioc.freshness import FRESH
from ioc.queries import Tile
from tests.test_briefing_web import text_of


def _tile(**changes: object) -> Tile:
    return replace(
        Tile(
            kpi_id="dossiers_received",
            name_vi="Hồ sơ tiếp nhận",
            name_en="Dossiers received",
            unit_vi="hồ sơ",
            unit_en="dossiers",
            decimals=0,
            direction="higher_is_better",
            period="2026-12",
            area="66",
            value=17,
            previous=11_831,
            previous_period="2026-11",
            delta=17 - 11_831,
            target=None,
            status="none",
            data_as_of=None,
            data_age=timedelta(minutes=2),
            freshness=FRESH,
        ),
        **changes,
    )


def _change_line(tile: Tile) -> tuple[str, str]:
    line = kpi_tile(tile, variant="desk", show_sparkline=False).children[2]
    return " ".join(text_of(line).split()), line.className


def test_a_finished_period_shows_its_change_with_arrow_and_tone() -> None:
    text, classes = _change_line(_tile())
    assert text == "▼ −11.814 so với tháng 11/2026"
    assert "kpi-tile__delta--bad" in classes


def test_a_running_period_shows_the_whole_previous_period_for_scale_without_arrow() -> None:
    text, classes = _change_line(_tile(running=True))
    assert text == "Cả tháng 11/2026: 11.831"
    assert "kpi-tile__delta--neutral" in classes and "▼" not in text
    footer = kpi_tile(_tile(running=True), variant="desk", show_sparkline=False).children[3]
    assert text_of(footer).split()[-3:] == ["12/2026", "(đến", "nay)"]
    assert _tile(running=True).delta_text() == ""  # the briefing's table prints no change either
