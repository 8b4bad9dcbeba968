"""Period texts of statistical sources → grain, first day, display code and a provisional flag.

Time codes are not standardised (protocols §1.6): `2024`, `2024M01`, `2024-01`, `2024Q1`, `2022K1`
(SSB quarter), `2024-Q1` (SDMX), `2026W19`, `2024-01-15`, and free Vietnamese text such as
`Sơ bộ 2024` (preliminary), `Ước tính 2025` (estimate), `Quý I/2024`, `Tháng 3 năm 2024`.

A source may add its own regular expressions (`period_regex` in its options); they are tried first.
Each must have a named group `year` and may have `month`, `quarter`, `week`, `day` (which fix the
grain) and `flag` (when it matches something, the period is provisional).

Display codes follow the `indicator_observation.period` column: `2024`, `2024-01`, `2024-Q1`,
`2026-W19`, `2024-01-15`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from connectors.values import clip

GRAINS = ("day", "week", "month", "quarter", "year")

#: Longest period text looked at ("Tháng 12 năm 2024 (sơ bộ)" is 25); longer is not a period.
MAX_PERIOD_TEXT = 64

#: Years a statistical period may fall in (projections reach 2100); `0001` or `2999` is a broken value.
MIN_YEAR, MAX_YEAR = 1900, 2100

#: Words that qualify a period as not final, with the status they give the observation.
_FLAG_WORDS: tuple[tuple[str, str], ...] = (
    ("sơ bộ", "provisional"),
    ("ước tính", "estimated"),
    ("ước thực hiện", "estimated"),
    ("ước", "estimated"),
    ("provisional", "provisional"),
    ("preliminary", "provisional"),
    ("estimate", "estimated"),
)
_FLAG_RE = re.compile(
    r"^\s*(?P<pre>" + "|".join(re.escape(w) for w, _ in _FLAG_WORDS) + r")\b[\s:.,-]*"
    r"|[\s(,-]*\b(?P<post>" + "|".join(re.escape(w) for w, _ in _FLAG_WORDS) + r")\)?\s*$",
    re.IGNORECASE,
)
_FLAG_OF = dict(_FLAG_WORDS)

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}

_BUILTIN = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(?:năm\s+)?(?P<year>\d{4})(?:-A1?)?$",
        r"^(?P<year>\d{4})\s*(?:-?M|-)(?P<month>\d{1,2})$",
        r"^(?P<year>\d{4})\s*-?[QK](?P<quarter>[1-4])$",
        r"^(?P<year>\d{4})\s*-?W(?P<week>\d{1,2})$",
        r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:T00:00(?::00(?:\.0+)?)?(?:Z|[+-]\d\d:?\d\d)?)?$",
        r"^tháng\s+(?P<month>\d{1,2})\s*(?:/|-|\s+năm\s+|\s+)(?P<year>\d{4})$",
        r"^(?P<month>\d{1,2})/(?P<year>\d{4})$",
        r"^quý\s+(?P<quarter>[1-4]|iv|iii|ii|i)\s*(?:/|-|\s+năm\s+|\s+)(?P<year>\d{4})$",
        r"^q(?P<quarter>[1-4])\s*[/-]\s*(?P<year>\d{4})$",
        r"^tuần\s+(?P<week>\d{1,2})\s*(?:/|-|\s+năm\s+|\s+)(?P<year>\d{4})$",
    )
)


def unrecognised(text: object, field: str = "period") -> str:
    """The reject reason for a period text no pattern recognises."""
    return (
        f"{field}: {clip(text)!r} is not a recognised period in {MIN_YEAR}–{MAX_YEAR} "
        "(set `period_regex` for the source's own codes)"
    )


class PeriodError(ValueError):
    """A period text no pattern recognises."""


@dataclass(frozen=True)
class Period:
    grain: str
    start: date
    code: str
    flag: str | None = None
    """`provisional` or `estimated` when the text says the figure is not final."""

    @property
    def provisional(self) -> bool:
        return self.flag is not None


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a source's period regex; it must name a `year` group."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"period regex {pattern!r} is not a valid regular expression: {exc}") from None
    if "year" not in compiled.groupindex:
        raise ValueError(f"period regex {pattern!r} must have a named group (?P<year>…)")
    unknown = set(compiled.groupindex) - {"year", "month", "quarter", "week", "day", "flag"}
    if unknown:
        raise ValueError(f"period regex {pattern!r} has unknown named groups {sorted(unknown)}")
    return compiled


def _from_match(match: re.Match[str], flag: str | None) -> Period:
    groups = {k: v for k, v in match.groupdict().items() if v}
    if groups.get("flag"):
        flag = flag or "provisional"
    year = int(groups["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year}")
    if "day" in groups:
        start = date(year, int(groups["month"]), int(groups["day"]))
        return Period("day", start, start.isoformat(), flag)
    if "week" in groups:
        week = int(groups["week"])
        start = date.fromisocalendar(year, week, 1)
        return Period("week", start, f"{year}-W{week:02d}", flag)
    if "quarter" in groups:
        raw = groups["quarter"].lower()
        quarter = _ROMAN[raw] if raw in _ROMAN else int(raw)
        if not 1 <= quarter <= 4:
            raise ValueError(f"quarter {quarter}")
        return Period("quarter", date(year, 3 * quarter - 2, 1), f"{year}-Q{quarter}", flag)
    if "month" in groups:
        month = int(groups["month"])
        return Period("month", date(year, month, 1), f"{year}-{month:02d}", flag)
    return Period("year", date(year, 1, 1), str(year), flag)


class PeriodParser:
    """Parses period texts with a source's own patterns first, then the built-in ones (cached)."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self._custom = tuple(compile_pattern(p) for p in patterns)
        self._cache: dict[str, Period | None] = {}

    def parse(self, text: object) -> Period | None:
        """The period a text names, or None when no pattern recognises it."""
        if text is None or (isinstance(text, float) and text != text):
            return None
        key = str(text)
        if len(key) > MAX_PERIOD_TEXT:
            return None
        if key not in self._cache:
            self._cache[key] = self._parse(key)
        return self._cache[key]

    def parse_or_raise(self, text: object) -> Period:
        found = self.parse(text)
        if found is None:
            raise PeriodError(f"period {text!r} is not recognised")
        return found

    def _parse(self, text: str) -> Period | None:
        clean = _normalise(text)
        for pattern in self._custom:
            match = pattern.fullmatch(clean)
            if match:
                return self._safe(match, None)
        flag = None
        stripped = _FLAG_RE.search(clean)
        if stripped:
            word = (stripped.group("pre") or stripped.group("post")).lower()
            flag = _FLAG_OF[word]
            clean = (clean[: stripped.start()] + " " + clean[stripped.end() :]).strip()
        for pattern in _BUILTIN:
            match = pattern.fullmatch(clean)
            if match:
                return self._safe(match, flag)
        return None

    @staticmethod
    def _safe(match: re.Match[str], flag: str | None) -> Period | None:
        try:
            return _from_match(match, flag)
        except (ValueError, KeyError):  # month 13, week 54, day 31 of February…
            return None

    def frame(self, texts: Iterable[object]) -> pd.DataFrame:
        """Parse many texts at once (each distinct text once): grain, period_start, period, flag.

        Rows whose text is not recognised have every column missing.
        """
        series = pd.Series(list(texts), dtype=object)
        uniques = pd.unique(series)
        parsed = [self.parse(t) for t in uniques]
        table = pd.DataFrame(
            {
                "grain": [p.grain if p else None for p in parsed],
                "period_start": [p.start if p else None for p in parsed],
                "period": [p.code if p else None for p in parsed],
                "flag": [p.flag if p else None for p in parsed],
            },
            dtype=object,
        )
        positions = pd.Index(uniques).get_indexer(series)
        return table.iloc[positions].reset_index(drop=True)


def parse_period(text: str, patterns: Iterable[str] = ()) -> Period:
    """Convenience: parse one text or raise :class:`PeriodError`."""
    return PeriodParser(patterns).parse_or_raise(text)
