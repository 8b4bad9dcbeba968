"""vi-VN formatting: `1.234`, `94,3%`, `22/11/2026`, data ages in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from ioc.formatting import format_age, format_date, format_datetime, format_number, format_percent


def test_numbers_use_vietnamese_separators() -> None:
    assert format_number(1234) == "1.234"
    assert format_number(1234567.891, 2) == "1.234.567,89"
    assert format_number(-0.5, 1) == "-0,5"
    assert format_number(None) == "—"


def test_percentages() -> None:
    assert format_percent(0.943) == "94,3%"
    assert format_percent(1) == "100,0%"
    assert format_percent(None) == "—"


def test_dates_are_day_month_year_in_local_time() -> None:
    assert format_date(date(2026, 11, 22)) == "22/11/2026"
    late_utc = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)
    assert format_date(late_utc) == "23/11/2026"  # 01:30 next day in Hà Nội / Đắk Lắk
    assert format_datetime(late_utc) == "23/11/2026 01:30"


def test_ages() -> None:
    assert format_age(timedelta(seconds=42)) == "42 giây"
    assert format_age(timedelta(minutes=5, seconds=3)) == "5 phút"
    assert format_age(timedelta(hours=3)) == "3 giờ"
    assert format_age(timedelta(hours=3, minutes=5, seconds=9)) == "3 giờ 5 phút"
    assert format_age(timedelta(days=2, hours=5, minutes=1)) == "2 ngày 5 giờ"
    assert format_age(timedelta(days=2), language="en") == "2 d"
    assert format_age(timedelta(0)) == "0 giây"
    assert format_age(None) == "—"


def test_no_data_never_carries_the_unit() -> None:
    from ioc.formatting import format_coverage, format_value

    assert format_value(94.34, 1, "%") == "94,3%"
    assert format_value(94.34, 1, "% chỉ tiêu") == "94,3% chỉ tiêu"
    assert format_value(1234, 0, "hồ sơ") == "1.234 hồ sơ"
    assert format_value(None, 1, "%") == "—"
    assert format_value(None, 1, "%", no_data="không có dữ liệu") == "không có dữ liệu"
    assert format_value(float("nan"), 1, "%") == "—"
    assert format_number(float("inf")) == "—"
    assert format_coverage((100, 102)) == "100/102 xã"
    assert format_coverage((1000, 1002), "đơn vị") == "1.000/1.002 đơn vị"
    assert format_coverage(None) == ""
