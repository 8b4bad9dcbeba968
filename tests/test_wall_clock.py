"""scene_at: one rotation for a room, anchored at the epoch, the same for every screen."""

from __future__ import annotations

from dashboard.wall.clock import scene_at
from ioc.wall.config import RoomConfig


def room(*durations: int) -> RoomConfig:
    return RoomConfig.model_validate(
        {
            "name": "R",
            "scenes": [{"id": f"s{i}", "name": f"S{i}", "duration": d} for i, d in enumerate(durations)],
            "screens": [{"id": "a", "name": "A", "default": [{"kind": "clock", "at": [1, 1]}]}],
        }
    )


def test_equal_durations_follow_floor_t_over_period_mod_n() -> None:
    r = room(30, 30, 30)
    for t in (0, 29.999, 30, 89, 90, 1_764_500_000.5, 1_764_500_017):
        assert scene_at(r, t).index == int(t // 30) % 3


def test_unequal_durations_and_boundaries() -> None:
    r = room(60, 45)
    assert [scene_at(r, t).index for t in (0, 59.9, 60, 104.9, 105, 164.9, 165)] == [0, 0, 1, 1, 0, 0, 1]
    slot = scene_at(r, 1_000_000)  # 1_000_000 mod 105 = 85 → scene 1, on since 999_975
    assert (slot.index, slot.started, slot.ends) == (1, 999_975, 1_000_020)


def test_a_drifting_clock_is_corrected_by_the_offset() -> None:
    r = room(20, 20)
    true_time = 1_764_500_013.0
    kiosk_clock = true_time - 40  # 40 s behind
    offset = true_time - kiosk_clock  # what the page measures against /wall/time
    assert scene_at(r, kiosk_clock + offset) == scene_at(r, true_time)
    assert scene_at(r, kiosk_clock) != scene_at(r, true_time)  # uncorrected it would be wrong
