"""One clock for the whole wall: the scene on screen is a function of the (server-corrected) time.

A room's scenes rotate in a fixed cycle anchored at the Unix epoch, so every screen of the room shows
the same scene at the same second whatever its own clock says (the page corrects it by the offset it
measures against `/wall/time`), and a screen that reloads rejoins the rotation where it stands.
`assets/wall.js` computes the same thing in the browser (`sceneAt`); tests check they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ioc.wall.config import RoomConfig, SceneConfig, WallConfig


@dataclass(frozen=True)
class SceneSlot:
    index: int
    scene: SceneConfig
    started: float  # epoch seconds the scene came on
    ends: float  # epoch seconds it gives way to the next


def rotation(room: RoomConfig) -> list[dict[str, object]]:
    """The room's cycle as the browser needs it: [{id, name, duration}, …]."""
    return [{"id": s.id, "name": s.name, "duration": s.duration} for s in room.scenes]


def scene_at(room: RoomConfig, t: float) -> SceneSlot:
    """The scene on screen at epoch second `t`: floor(t / period) mod n for equal durations, and the
    same cumulative rule for scenes of different lengths."""
    cycle = room.cycle
    start_of_cycle = math.floor(t / cycle) * cycle
    position = t - start_of_cycle
    elapsed = 0
    for index, scene in enumerate(room.scenes):
        if position < elapsed + scene.duration:
            started = start_of_cycle + elapsed
            return SceneSlot(index, scene, started, started + scene.duration)
        elapsed += scene.duration
    raise AssertionError("unreachable: position is below the cycle length")


def screen_scene_at(wall: WallConfig, screen_id: str, t: float) -> SceneSlot:
    found = wall.screen(screen_id)
    if found is None:
        raise KeyError(screen_id)
    return scene_at(found[1], t)
