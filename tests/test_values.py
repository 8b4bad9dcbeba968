"""The value rule of the statistical connectors (connectors/values.py), with hand-checked cases."""

from __future__ import annotations

import time

import pytest

from connectors.periods import PeriodParser
from connectors.values import code, read_value, symbol


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, (None, None, None)),
        (12, (12.0, None, None)),
        ("-3.5e2", (-350.0, None, None)),
        (" 12.50 ", (12.5, None, None)),
        ("..", (None, "..", None)),
        ("n/a", (None, "n/a", None)),
        ("NaN", (None, None, None)),  # .Stat's text for a missing value
        ("1,5", (None, None, "value: '1,5' is not a number")),  # a decimal comma is never 15
        ("1_000", (None, None, "value: '1_000' is not a number")),  # float() would say 1000
        (float("inf"), (None, None, "value: NaN and ±Infinity are not numbers")),
        (float("nan"), (None, None, "value: NaN and ±Infinity are not numbers")),
        ("1e400", (None, None, "value: NaN and ±Infinity are not numbers")),
        (10**400, (None, None, "value: beyond the range of a number")),
        (True, (None, None, "value: true is not a number")),
        ({"a": 1}, (None, None, "value: a number, null or a status symbol expected, got dict")),
        ("a\x00b", (None, None, "value: a 3-character text is neither a number nor a status symbol")),
    ],
)
def test_read_value(raw: object, expected: tuple[object, object, object]) -> None:
    assert read_value(raw) == expected


def test_a_long_digit_run_is_rejected_in_linear_time() -> None:
    """`\\d+\\.?\\d*` backtracks quadratically: 2,000,000 digits would take hours (found by hypothesis)."""
    started = time.perf_counter()
    _, _, problem = read_value("9" * 2_000_000 + "x")
    assert problem is not None and time.perf_counter() - started < 1.0
    started = time.perf_counter()
    assert PeriodParser().parse("2024" * 500_000) is None and time.perf_counter() - started < 1.0


def test_codes_and_symbols() -> None:
    assert code(" VN ") == "VN" and code(704) == "704"
    assert code("") is code("a\x00") is code("x" * 101) is code(["VN"]) is code(True) is None
    assert symbol("P") == "P" and symbol(1.5) == "1.5"
    assert symbol(float("inf")) is symbol({"x": 1}) is symbol("x" * 41) is None
