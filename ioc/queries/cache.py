"""Results cached by data version: 36 wall screens asking the same thing cost one computation.

An entry is a question (method and arguments) with the answer for one data version; a new load or
rollup refresh changes the version, so the answer for old data is never taken for the new version's.
Concurrent callers of the same question and version wait for the first one's answer instead of
computing it again (single flight).

Stale while revalidate (`stale_for` seconds, 0 = off): when the data version has moved on, a reader
gets the previous version's answer at once — if that version was superseded less than `stale_for`
seconds ago — while one background thread computes the new answer, which the next reader gets. So a
load every minute never makes a wall screen or a staff page wait for the recomputation it caused, and
what a reader sees is never more than `stale_for` seconds behind the newest data (plus one
computation). Past that bound the reader waits for the new answer, as without staleness. The web app
turns this on (`web.serve_stale_for`); the worker, briefings and the CLI compute fresh answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    version: Hashable
    value: Any
    #: monotonic time a newer version was first asked for (None while this version is the newest seen)
    superseded_at: float | None = None


class VersionedCache:
    """A bounded, thread-safe LRU of answers, one version per question; `get_or_compute` computes
    each (question, version) once."""

    def __init__(
        self,
        max_entries: int = 4096,
        *,
        stale_for: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.stale_for = stale_for
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[tuple[Hashable, Hashable], threading.Lock] = {}
        self._refreshing: dict[Hashable, tuple[Hashable, Callable[[], Any]]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()  # .depth: answers being computed by this thread
        self.hits = 0
        self.misses = 0
        self.stale_hits = 0

    def get_or_compute(
        self, question: Hashable, version: Hashable, compute: Callable[[], T], *, stale: bool = True
    ) -> T:
        """The answer to `question` at `version`; with `stale` (and `stale_for` > 0), the previous
        version's answer while the new one is computed in the background (see the module's doc)."""
        with self._lock:
            entry = self._entries.get(question)
            if entry is not None and entry.version == version:
                self._entries.move_to_end(question)
                self.hits += 1
                return entry.value
            if entry is not None and stale and self._may_serve_stale(entry):
                self.stale_hits += 1
                self._refresh_later(question, version, compute)
                return entry.value
            flight = self._pending.setdefault((question, version), threading.Lock())
        with flight:
            with self._lock:
                entry = self._entries.get(question)
                if entry is not None and entry.version == version:
                    self.hits += 1
                    return entry.value
            self._local.depth = getattr(self._local, "depth", 0) + 1
            try:
                value = compute()
            finally:
                self._local.depth -= 1
            with self._lock:
                self.misses += 1
                self._store(question, version, value)
                self._pending.pop((question, version), None)
            return value

    def _may_serve_stale(self, entry: _Entry) -> bool:
        """Within `stale_for` of the first ask for a newer version, and not while computing an answer:
        an answer stored for the new version must be built from that version's parts only."""
        if self.stale_for <= 0 or getattr(self._local, "depth", 0) > 0:
            return False
        now = self._clock()
        if entry.superseded_at is None:
            entry.superseded_at = now
        return now - entry.superseded_at <= self.stale_for

    def _refresh_later(self, question: Hashable, version: Hashable, compute: Callable[[], Any]) -> None:
        """Queue the question for the background thread, once: a question already waiting is brought
        to the newest version asked (and its newest way to compute), so the queue never holds more
        than the questions being read and no answer is computed for a version already superseded."""
        queued = question in self._refreshing
        self._refreshing[question] = (version, compute)
        if queued:
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ioc-cache-refresh")

        def refresh() -> None:
            with self._lock:
                newest, how = self._refreshing[question]
            try:
                self.get_or_compute(question, newest, how, stale=False)
            except Exception:  # the reader who waits past `stale_for` gets the error itself
                log.exception("background refresh of a cached answer failed")
            finally:
                with self._lock:
                    self._refreshing.pop(question, None)

        self._executor.submit(refresh)

    def _store(self, question: Hashable, version: Hashable, value: Any) -> None:
        self._entries[question] = _Entry(version, value)
        self._entries.move_to_end(question)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def servable(self, question: Hashable, version: Hashable) -> bool:
        """Would `get_or_compute` answer at once (this version's answer, or a stale one it may serve)?"""
        with self._lock:
            entry = self._entries.get(question)
            if entry is None:
                return False
            return entry.version == version or self._may_serve_stale(entry)

    def put(self, question: Hashable, version: Hashable, value: Any) -> None:
        """Store an answer computed elsewhere (several answers computed together)."""
        with self._lock:
            self._store(question, version, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
