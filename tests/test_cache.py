"""The read model's cache: one computation per question and data version, and stale answers while the
new one is computed (the web app's `web.serve_stale_for`), within their bound and never inside a new
version's answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ioc.queries.cache import VersionedCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_for(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the background refresh did not finish"
        time.sleep(0.01)


def test_concurrent_readers_of_one_question_and_version_compute_it_once() -> None:
    cache = VersionedCache()
    calls = []
    gate = threading.Event()

    def compute() -> int:
        calls.append(1)
        gate.wait(5)
        return 42

    results: list[int] = []
    readers = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("q", "v1", compute)))
        for _ in range(8)
    ]
    for reader in readers:
        reader.start()
    time.sleep(0.1)
    gate.set()
    for reader in readers:
        reader.join()
    assert results == [42] * 8 and len(calls) == 1


def test_without_staleness_a_new_version_is_computed_before_answering() -> None:
    cache = VersionedCache()
    assert cache.get_or_compute("q", "v1", lambda: "old") == "old"
    assert cache.get_or_compute("q", "v2", lambda: "new") == "new"
    assert cache.get_or_compute("q", "v1", lambda: "older again") == "older again"  # one version kept


def test_a_stale_answer_is_served_while_the_new_one_is_computed_then_the_new_one() -> None:
    clock = Clock()
    cache = VersionedCache(stale_for=60, clock=clock)
    cache.get_or_compute("q", "v1", lambda: "old")
    started, release = threading.Event(), threading.Event()

    def slow_new() -> str:
        started.set()
        release.wait(5)
        return "new"

    assert cache.get_or_compute("q", "v2", slow_new) == "old"  # at once: the reader does not wait
    assert started.wait(5)
    assert cache.get_or_compute("q", "v2", lambda: "computed twice") == "old"  # one refresh only
    release.set()
    wait_for(lambda: cache.servable("q", "v2") and cache.stale_hits == 2 and cache.misses == 2)
    assert cache.get_or_compute("q", "v2", lambda: "computed twice") == "new"


def test_stale_answers_stop_at_the_bound_counted_from_the_first_ask_for_the_new_version() -> None:
    clock = Clock()
    cache = VersionedCache(stale_for=60, clock=clock)
    cache.get_or_compute("q", "v1", lambda: "old")
    clock.now += 3600  # an hour without new data: the answer is old but still the newest
    started, blocked = threading.Event(), threading.Event()

    def slow_new() -> str:
        started.set()
        blocked.wait(5)
        return "new"

    assert cache.get_or_compute("q", "v2", slow_new) == "old"
    assert started.wait(5)
    clock.now += 59
    assert cache.get_or_compute("q", "v2", lambda: "never") == "old"
    clock.now += 2  # 61 s since v2 was first asked for, the refresh still running: wait for it
    threading.Timer(0.3, blocked.set).start()
    began = time.monotonic()
    assert cache.get_or_compute("q", "v2", lambda: "computed twice") == "new"
    assert time.monotonic() - began >= 0.25


def test_an_answer_for_a_new_version_is_built_from_that_versions_parts_only() -> None:
    """A wall screen (outer answer) computed for v2 must not embed a tile (inner answer) of v1."""
    cache = VersionedCache(stale_for=60, clock=Clock())
    part = {"v1": "part-1", "v2": "part-2"}

    def outer(version: str) -> str:
        return "screen(" + cache.get_or_compute("tile", version, lambda: part[version]) + ")"

    assert cache.get_or_compute("screen", "v1", lambda: outer("v1")) == "screen(part-1)"
    assert cache.get_or_compute("screen", "v2", lambda: outer("v2")) == "screen(part-1)"  # stale, at once
    wait_for(lambda: cache.servable("screen", "v2") and cache.misses == 4)
    assert cache.get_or_compute("screen", "v2", lambda: "never") == "screen(part-2)"


def test_a_failing_background_refresh_leaves_the_stale_answer_then_the_reader_gets_the_error() -> None:
    clock = Clock()
    cache = VersionedCache(stale_for=60, clock=clock)
    cache.get_or_compute("q", "v1", lambda: "old")

    def broken() -> str:
        raise RuntimeError("database gone")

    assert cache.get_or_compute("q", "v2", broken) == "old"
    wait_for(lambda: not cache._refreshing)
    clock.now += 61
    try:
        cache.get_or_compute("q", "v2", broken)
    except RuntimeError as error:
        assert "database gone" in str(error)
    else:
        raise AssertionError("past the bound, the reader must see the failure")


def test_a_waiting_refresh_is_computed_once_for_the_newest_version_asked() -> None:
    cache = VersionedCache(stale_for=60, clock=Clock())
    cache.get_or_compute("a", "v1", lambda: "a1")
    cache.get_or_compute("b", "v1", lambda: "b1")
    busy, release = threading.Event(), threading.Event()

    def slow_a() -> str:
        busy.set()
        release.wait(5)
        return "a2"

    assert cache.get_or_compute("a", "v2", slow_a) == "a1"  # the background thread is busy with "a"
    assert busy.wait(5)
    computed: list[str] = []
    for version in ("v2", "v3", "v4"):  # "b" waits in the queue while three versions go by
        assert cache.get_or_compute("b", version, lambda v=version: computed.append(v) or f"b-{v}") == "b1"
    release.set()
    wait_for(lambda: cache.servable("b", "v4") and not cache._refreshing)
    assert computed == ["v4"] and cache.get_or_compute("b", "v4", lambda: "never") == "b-v4"
