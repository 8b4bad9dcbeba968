"""Target trajectories: where a KPI with an annual target should be today, and when it gets there.

A pure function of numbers and dates (no database), used by the desktop and the briefings. The target
is pro-rated linearly over the days of its window: after `d` of `n` days, `baseline + (target −
baseline) · d / n` is due. At the current pace (what was gained since the baseline, per elapsed day)
the target is reached on day ⌈(target − baseline) / pace⌉ of the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Trajectory:
    target: float
    expected: float  # the pro-rated target on `on`
    actual: float
    on_track: bool
    reached: bool
    reach_date: date | None  # at the current pace; None when already reached or no progress
    elapsed_days: int
    total_days: int

    @property
    def progress(self) -> float | None:
        """actual / pro-rated target (1.0 = exactly on pace)."""
        return self.actual / self.expected if self.expected else None

    def status_text(self, language: str = "vi") -> str:
        if self.reached:
            return "đã đạt chỉ tiêu" if language == "vi" else "target reached"
        if self.on_track:
            return "đúng tiến độ" if language == "vi" else "on track"
        return "chậm tiến độ" if language == "vi" else "behind schedule"


def trajectory(
    actual: float,
    target: float,
    *,
    start: date,
    end: date,
    on: date,
    baseline: float = 0.0,
) -> Trajectory:
    """Progress of `actual` on day `on` towards `target` due by `end` (exclusive), counted from `start`
    where the value was `baseline` (0 for a flow such as revenue; last year's closing stock for a
    cumulative count such as activations). Day `on` counts as elapsed."""
    if end <= start:
        raise ValueError(f"the window ends ({end}) before it starts ({start})")
    total = (end - start).days
    elapsed = min(max((on - start).days + 1, 0), total)
    expected = baseline + (target - baseline) * elapsed / total
    reached = actual >= target
    gained = actual - baseline
    reach_date = None
    if not reached and elapsed > 0 and gained > 0:
        pace = gained / elapsed
        reach_date = start + timedelta(days=math.ceil((target - baseline) / pace - 1e-9) - 1)
    return Trajectory(
        target=target,
        expected=expected,
        actual=actual,
        on_track=actual >= expected,
        reached=reached,
        reach_date=reach_date,
        elapsed_days=elapsed,
        total_days=total,
    )
