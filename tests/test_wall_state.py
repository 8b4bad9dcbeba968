"""Wall state in Postgres: heartbeats and liveness, overrides (newest wins, expiry, release), alerts
(raised once, acknowledged, raised anew when the condition comes back after a gap)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from ioc.wall import state

T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


@pytest.fixture
def wall_db(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE wall_heartbeat, wall_override, wall_alert RESTART IDENTITY"))
    return engine


def test_heartbeat_and_liveness(wall_db: Engine) -> None:
    with wall_db.begin() as c:
        state.record_heartbeat(c, "ops-1", now=T0, scene="a", version="v1", error="Mất kết nối: x")
        state.record_heartbeat(
            c, "ops-1", now=T0 + timedelta(seconds=30), scene="b", version="v2", error=None
        )
        beats = state.heartbeats(c)
    beat = beats["ops-1"]
    assert (beat.scene, beat.version, beat.error) == ("b", "v2", "Mất kết nối: x")  # the last error stays
    kinds = [
        state.liveness(beat, beat.seen_at + timedelta(seconds=s), late_after=90, offline_after=300)
        for s in (10, 91, 301)
    ]
    assert kinds == [state.LIVE, state.LATE, state.OFFLINE]
    assert state.liveness(None, T0, late_after=90, offline_after=300) == state.NEVER


def test_overrides_newest_wins_expire_and_release(wall_db: Engine) -> None:
    with wall_db.begin() as c:
        pin = state.add_override(c, ["ops-1", "ops-2"], scene="chi-tiet")
        topic = state.add_override(
            c, ["ops-2"], topic={"kind": "notice", "text": "x"}, until=T0 + timedelta(minutes=5)
        )
        active = state.active_overrides(c, now=T0)
        assert state.override_for(active, "ops-2").id == topic
        assert state.override_for(active, "ops-1").id == pin
        assert state.override_for(active, "ops-3") is None
        later = state.active_overrides(c, now=T0 + timedelta(minutes=6))  # the topic expired
        assert state.override_for(later, "ops-2").id == pin
        state.release_override(c, pin, now=T0)
        assert state.active_overrides(c, now=T0 + timedelta(minutes=6)) == []
    with pytest.raises(ValueError):
        state.add_override(wall_db.connect(), ["ops-1"])


def test_alerts_raise_acknowledge_and_come_back(wall_db: Engine) -> None:
    gap = timedelta(minutes=10)
    red = [("kpi:x", "kpi_red", "Không đạt chỉ tiêu: X")]
    with wall_db.begin() as c:
        state.raise_alerts(c, red, now=T0, gap=gap)
        state.raise_alerts(c, red, now=T0 + timedelta(minutes=1), gap=gap)
        assert [a.key for a in state.open_alerts(c)] == ["kpi:x"]
        assert state.acknowledge(c, ["kpi:x"], now=T0 + timedelta(minutes=2)) == 1
        state.raise_alerts(c, red, now=T0 + timedelta(minutes=3), gap=gap)  # still red: stays acknowledged
        assert state.open_alerts(c) == []
        state.raise_alerts(c, red, now=T0 + timedelta(minutes=30), gap=gap)  # green for a while, red again
        assert [a.raised_at for a in state.open_alerts(c)] == [T0 + timedelta(minutes=30)]
        assert state.acknowledge(c, None, now=T0 + timedelta(minutes=31)) == 1
