"""Hypothesis strategies for hostile payloads: real fixtures with a few values replaced by poison.

    payload = data.draw(mutated(fixture("sdmx_data.json")))
    server.route("GET", path, lambda r: hostile_reply(payload))

A mutation walks from the root to a random node and replaces it with a hostile value (NUL
characters, lone surrogates, NaN/±Infinity, huge numbers, multi-megabyte strings, objects where a
scalar is expected, deep nesting, year-1 / year-2999 dates, "1,5"), or deletes it. Starting from a
real fixture keeps most of the message valid, so the poison reaches the record-level code.
`hostile_reply` serialises with NaN/Infinity tokens (what Python's and many servers' encoders emit).
"""

from __future__ import annotations

import copy
import json
import os
import re
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ioc.connector import Batch
from ioc.load import load_batch, record_rejects
from tests.loopback import Reply

#: The settings of every hostile-payload property: 200 examples, the same ones on every run (a
#: property that finds a new bug must not turn someone else's merge red at random).
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

#: `IOC_HYPOTHESIS_EXPLORE=1`: no shrinking (finds the next failure fast while fixing a class of bugs).
settings.register_profile("explore", phases=[Phase.explicit, Phase.reuse, Phase.generate])
if os.environ.get("IOC_HYPOTHESIS_EXPLORE"):
    settings.load_profile("explore")

HUGE_TEXT = "9" * 2_000_000 + "x"
DEEP = "__deep__"

POISON_TEXTS = (
    "1,5",
    "1.234,5",
    "0001-01-01T00:00:00Z",
    "2999-12-31T23:59:59Z",
    "00010101",
    "0001",
    "2999",
    "2999-Q1",
    "NaN",
    "Infinity",
    "-Infinity",
    "",
    "  ",
    "..",
    "-",
    "a\x00b",
    "\x00",
    "\ud800",
    "<script>alert(1)</script>",
    "'; DROP TABLE indicator_observation; --",
    HUGE_TEXT,
    DEEP,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([2**63, -(2**63) - 1, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 5e-324]),
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=6).map(
        lambda s: s + "\x00"
    ),
    st.sampled_from(POISON_TEXTS),
)

hostile = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=5,
)


def _mutate(draw: st.DrawFn, node: Any, depth: int) -> Any:
    if isinstance(node, dict | list) and node and draw(st.integers(0, 4)) > 0:
        keys = sorted(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        if isinstance(node, dict) and draw(st.integers(0, 6)) == 0:
            del node[key]
        else:
            node[key] = _mutate(draw, node[key], depth + 1)
        return node
    return draw(hostile)


Path = tuple[str | int, ...]


@st.composite
def mutated(draw: st.DrawFn, document: Any, focus: tuple[Path, ...] = (), max_mutations: int = 3) -> Any:
    """A deep copy of `document` with 1…`max_mutations` nodes replaced by hostile values or removed.

    Each mutation starts at the root or at one of the `focus` paths (where the records are), so
    record-level poison is as likely as a broken envelope."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_mutations))):
        path = draw(st.sampled_from(((), *focus)))
        parent: Any = None
        node = doc
        for key in path:
            parent, node = node, node[key] if _has(node, key) else None
        if node is None:
            continue
        changed = _mutate(draw, node, 0)
        if parent is None:
            doc = changed
        else:
            parent[path[-1]] = changed
    return doc


def _has(node: Any, key: str | int) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node)


def hostile_body(payload: Any) -> bytes:
    """JSON text of `payload`: NaN/Infinity as bare tokens, lone surrogates as escapes, and every
    `DEEP` string replaced by a list nested 100,000 levels deep."""
    text = json.dumps(payload, allow_nan=True, ensure_ascii=True)
    deep = "[" * 100_000 + "]" * 100_000
    return re.sub(json.dumps(DEEP), deep, text).encode("ascii")


def hostile_reply(payload: Any) -> Reply:
    return Reply(body=hostile_body(payload), headers={"Content-Type": "application/json"})


def load_rolled_back(engine: Engine, batch: Batch, source: str) -> None:
    """Load a batch and its rejects as the runner does, then roll back (the load path must not raise)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        load_batch(connection, batch.table, batch.records, source=source)
        record_rejects(
            connection, source=source, target_table=batch.table, run_id=None, rejects=batch.rejects
        )
        transaction.rollback()
