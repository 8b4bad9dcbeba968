"""What a value, a status symbol or a code of a statistical source may be — one rule for SDMX,
JSON-stat/PxWeb and the World Bank, so a poison value is rejected with a reason, not stored:

* a **value** is a finite JSON number, a numeric string (`"12.5"`, `"-3e2"`; no thousands
  separators, no `_`), null (missing), or a short status symbol without digits (`..`, `-`, `n/a`,
  `x`) that stands for a missing value. The text `"NaN"` is missing too (some .Stat exports).
  Anything else is a record-level problem: ±Infinity, NaN and numbers beyond float range, booleans,
  objects and arrays, `"1,5"` (a decimal comma: never read as 15), long or non-printable text;
* a **symbol** (status, unit, vintage) is a short printable text (numbers are turned into text);
* a **code** (dimension value, country id) is a non-empty printable text of at most `MAX_CODE`
  characters — no NUL, no control characters, no multi-megabyte strings in an indexed column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

MAX_SYMBOL = 40
MAX_TEXT = 100
MAX_CODE = 100

#: A decimal number. The digits before and after the point are separate groups: `\d+\.?\d*` would
#: try every split of a long digit run (2,000,000 digits: hours — found by the property tests).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: Longest text read as a number (a float has 17 significant digits; 64 leaves room for zeros).
MAX_NUMBER_TEXT = 64
_MISSING_TEXTS = frozenset({"nan"})


def clip(raw: object, limit: int = MAX_SYMBOL) -> str:
    """`raw` as text of at most `limit` characters (for reasons and rejected records)."""
    text = str(raw)
    return text if len(text) <= limit else text[:limit] + "…"


def _short(text: str) -> str:
    return repr(clip(text, 20))


def read_value(raw: Any) -> tuple[float | None, str | None, str | None]:
    """(number, symbol, problem) of one raw value; at most one of the three is not None."""
    if raw is None:
        return None, None, None
    if isinstance(raw, bool):
        return None, None, f"value: {str(raw).lower()} is not a number"
    if isinstance(raw, int | float):
        try:
            number = float(raw)
        except OverflowError:
            return None, None, "value: beyond the range of a number"
        if not math.isfinite(number):
            return None, None, "value: NaN and ±Infinity are not numbers"
        return number, None, None
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) <= MAX_NUMBER_TEXT and _NUMBER.fullmatch(text):
            return read_value(float(text))
        if text.lower() in _MISSING_TEXTS or not text:
            return None, None, None
        if any(ch.isdigit() for ch in text):
            return None, None, f"value: {_short(text)} is not a number"
        if len(text) > MAX_SYMBOL or not text.isprintable():
            return None, None, f"value: a {len(text)}-character text is neither a number nor a status symbol"
        return None, text, None
    return None, None, f"value: a number, null or a status symbol expected, got {type(raw).__name__}"


def read_values(raw: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`read_value` over many cells: float64 values (NaN = none), symbols and problems (object)."""
    n = len(raw)
    symbols = np.full(n, None, dtype=object)
    problems = np.full(n, None, dtype=object)
    if all(type(v) in (int, float) or v is None for v in raw):
        try:
            values = np.array(raw, dtype=np.float64)
        except OverflowError:
            pass
        else:
            odd = ~np.isfinite(values)
            if odd.any():
                nulls = np.fromiter((v is None for v in raw), dtype=bool, count=n)
                problems[odd & ~nulls] = "value: NaN and ±Infinity are not numbers"
                values[odd] = np.nan
            return values, symbols, problems
    values = np.full(n, np.nan)
    for i, item in enumerate(raw):
        number, symbols[i], problems[i] = read_value(item)
        if number is not None:
            values[i] = number
    return values, symbols, problems


def symbol(raw: Any, limit: int = MAX_SYMBOL) -> str | None:
    """A status/unit/vintage text, or None when `raw` is missing or is not a short printable scalar."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = str(raw) if not isinstance(raw, float) or math.isfinite(raw) else None
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    return text if text and len(text) <= limit and text.isprintable() else None


def is_symbol(raw: Any, limit: int = MAX_SYMBOL) -> bool:
    """Whether `raw` is missing or a usable symbol (so that dropping it loses nothing)."""
    return raw is None or (isinstance(raw, str) and not raw.strip()) or symbol(raw, limit) is not None


def code(raw: Any) -> str | None:
    """A code (dimension value, country id) as text, or None when `raw` cannot be one."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    return text if text and len(text) <= MAX_CODE and text.isprintable() else None
