"""Writing the audit log from a web request: the actor and client address come from the request."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from flask import current_app, g, request

from ioc.auth import audit

LOG = logging.getLogger(__name__)
T = TypeVar("T")


def record(action: str, detail: dict[str, Any] | None = None, *, actor: str | None = None) -> None:
    """Best effort: an audit write that fails is logged, never turns the request into an error."""
    try:
        with current_app.config["IOC_DATABASE"].engine.begin() as connection:
            audit.record(connection, actor or g.get("ioc_actor"), action, detail, request.remote_addr)
    except Exception:  # pragma: no cover - the database is down; the request's own error will show
        LOG.exception("audit write failed: %s", action)


def counted(
    rows: Iterable[T], action: str, detail: dict[str, Any], *, count: Callable[[int], int] | None = None
) -> Iterator[T]:
    """Pass rows through and record `action` with how many went out once the stream ends (an export:
    who, which filters, how many rows; never the rows). The first row is read now, so a refused
    question (outside the reader's scope) fails the request with 403 before a 200 goes out. `count`:
    the number recorded, from the number of items passed (default: that number; for a stream of chunks,
    the rows they held). The source is closed before the record, so its count is final."""
    source = iter(rows)
    first = list(itertools.islice(source, 1))
    return _counting(itertools.chain(first, source), source, action, detail, count or (lambda passed: passed))


def _counting(
    rows: Iterator[T], source: Iterator[T], action: str, detail: dict[str, Any], count: Callable[[int], int]
) -> Iterator[T]:
    passed = 0
    complete = False
    try:
        for row in rows:
            passed += 1
            yield row
        complete = True
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
        record(action, {**detail, "rows": count(passed), "complete": complete})
