"""Period texts of statistical sources → grain, first day, display code and provisional flag."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.periods import PeriodError, PeriodParser, compile_pattern, parse_period


@pytest.mark.parametrize(
    ("text", "grain", "start", "code", "flag"),
    [
        ("2024", "year", date(2024, 1, 1), "2024", None),
        ("2024M01", "month", date(2024, 1, 1), "2024-01", None),
        ("2024M12", "month", date(2024, 12, 1), "2024-12", None),
        ("2024-10", "month", date(2024, 10, 1), "2024-10", None),
        ("2024-M05", "month", date(2024, 5, 1), "2024-05", None),
        ("2024Q1", "quarter", date(2024, 1, 1), "2024-Q1", None),
        ("2024-Q3", "quarter", date(2024, 7, 1), "2024-Q3", None),
        ("2022K1", "quarter", date(2022, 1, 1), "2022-Q1", None),
        ("2022K4", "quarter", date(2022, 10, 1), "2022-Q4", None),
        ("2026W19", "week", date(2026, 5, 4), "2026-W19", None),
        ("2026-W01", "week", date(2025, 12, 29), "2026-W01", None),
        ("2024-01-15", "day", date(2024, 1, 15), "2024-01-15", None),
        ("2024-A1", "year", date(2024, 1, 1), "2024", None),
        ("Sơ bộ 2024", "year", date(2024, 1, 1), "2024", "provisional"),
        ("sơ bộ  2024", "year", date(2024, 1, 1), "2024", "provisional"),
        ("2024 (Sơ bộ)", "year", date(2024, 1, 1), "2024", "provisional"),
        ("Ước tính 2025", "year", date(2025, 1, 1), "2025", "estimated"),
        ("Năm 2023", "year", date(2023, 1, 1), "2023", None),
        ("Quý IV/2024", "quarter", date(2024, 10, 1), "2024-Q4", None),
        ("Quý 2 năm 2025", "quarter", date(2025, 4, 1), "2025-Q2", None),
        ("Sơ bộ Quý 1/2024", "quarter", date(2024, 1, 1), "2024-Q1", "provisional"),
        ("Tháng 3 năm 2024", "month", date(2024, 3, 1), "2024-03", None),
        ("Tháng 11/2025", "month", date(2025, 11, 1), "2025-11", None),
    ],
)
def test_builtin_forms(text: str, grain: str, start: date, code: str, flag: str | None) -> None:
    period = parse_period(text)
    assert (period.grain, period.start, period.code, period.flag) == (grain, start, code, flag)
    assert period.provisional is (flag is not None)


def test_nfd_text_is_normalised() -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Sơ bộ 2024")
    assert decomposed != "Sơ bộ 2024"
    assert parse_period(decomposed).flag == "provisional"


@pytest.mark.parametrize(
    "text", ["13", "2024M13", "2024W54", "2024-02-30", "2024-S1", "", "Tổng số", "Quý 5/2024"]
)
def test_unrecognised_texts(text: str) -> None:
    assert PeriodParser().parse(text) is None
    with pytest.raises(PeriodError, match="not recognised"):
        parse_period(text)


def test_source_regex_is_tried_first_and_can_flag() -> None:
    parser = PeriodParser([r"(?P<year>\d{4})/(?P<month>\d{2})(?P<flag>p)?", r"FY(?P<year>\d{4})"])
    assert parser.parse("2024/03") == parse_period("2024-03")
    provisional = parser.parse("2024/03p")
    assert provisional is not None and provisional.flag == "provisional" and provisional.code == "2024-03"
    assert parser.parse("FY2023").code == "2023"
    assert parser.parse("2024Q2").code == "2024-Q2"  # built-ins still apply


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(?P<month>\\d+)", "named group"),
        ("(?P<year>\\d{4}", "not a valid"),
        ("(?P<year>\\d{4})(?P<x>.)", "unknown"),
    ],
)
def test_bad_source_regex(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_pattern(pattern)


def test_frame_parses_each_distinct_text_once() -> None:
    parser = PeriodParser()
    frame = parser.frame(["2024", "Sơ bộ 2025", "2024", None, "rác"])
    assert frame["period"].tolist()[:3] == ["2024", "2025", "2024"]
    assert frame["flag"].tolist()[1] == "provisional"
    assert frame["grain"].isna().tolist() == [False, False, False, True, True]
    assert frame["period_start"].tolist()[0] == date(2024, 1, 1)
