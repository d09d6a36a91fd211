"""Working hours of a line on an injected clock (F-ROUTE-7).

Time zones and daylight saving, days off, per-weekday hours, national holidays
from the ``holidays`` package and custom closed dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from softswitch.config.routing import Hours
from softswitch.routing import is_open
from softswitch.routing.hours import is_holiday


def hours(**fields: Any) -> Hours:
    return Hours.model_validate({"timezone": "Europe/Rome", "open": ["09:00-18:00"], **fields})


def rome(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Rome"))


def test_open_within_the_range_start_included_end_excluded_f_route_7() -> None:
    plain = hours()
    assert not is_open(plain, rome(2025, 1, 15, 8, 59))
    assert is_open(plain, rome(2025, 1, 15, 9, 0))
    assert is_open(plain, rome(2025, 1, 15, 17, 59))
    assert not is_open(plain, rome(2025, 1, 15, 18, 0))


def test_lunch_break_between_two_ranges_f_route_7() -> None:
    split = hours(open=["09:00-13:00", "14:00-18:00"])
    assert is_open(split, rome(2025, 1, 15, 12, 30))
    assert not is_open(split, rome(2025, 1, 15, 13, 30))
    assert is_open(split, rome(2025, 1, 15, 14, 0))


def test_the_instant_is_read_in_the_line_time_zone_f_route_7() -> None:
    plain = hours()
    # 08:30 UTC is 09:30 in Rome in winter (CET, UTC+1)
    assert is_open(plain, datetime(2025, 1, 15, 8, 30, tzinfo=UTC))
    # the same instant seen from New York is still 09:30 in Rome
    new_york = timezone(timedelta(hours=-5))
    assert is_open(plain, datetime(2025, 1, 15, 3, 30, tzinfo=new_york))
    tokyo = hours(timezone="Asia/Tokyo")
    assert not is_open(tokyo, datetime(2025, 1, 15, 9, 30, tzinfo=UTC))  # 18:30 in Tokyo
    assert is_open(tokyo, datetime(2025, 1, 15, 0, 30, tzinfo=UTC))  # 09:30 in Tokyo


def test_daylight_saving_time_moves_the_hours_in_utc_f_route_7() -> None:
    plain = hours()
    # 07:30 UTC: 08:30 in Rome in winter (closed), 09:30 in summer (CEST, open)
    assert not is_open(plain, datetime(2025, 3, 28, 7, 30, tzinfo=UTC))
    assert is_open(plain, datetime(2025, 3, 31, 7, 30, tzinfo=UTC))
    # 16:30 UTC: 17:30 in Rome in winter (open), 18:30 in summer (closed)
    assert is_open(plain, datetime(2025, 10, 27, 16, 30, tzinfo=UTC))
    assert not is_open(plain, datetime(2025, 10, 24, 16, 30, tzinfo=UTC))


def test_days_off_and_weekday_hours_f_route_7() -> None:
    week = hours(days_off=["sun"], days={"sat": ["09:00-12:00"], "fri": ["09:00-14:00"]})
    assert is_open(week, rome(2025, 1, 18, 10))  # Saturday morning
    assert not is_open(week, rome(2025, 1, 18, 13))  # Saturday afternoon
    assert not is_open(week, rome(2025, 1, 19, 10))  # Sunday
    assert not is_open(week, rome(2025, 1, 17, 15))  # Friday afternoon
    assert is_open(week, rome(2025, 1, 16, 15))  # Thursday afternoon
    assert not is_open(hours(), rome(2025, 1, 18, 10))  # by default weekends are off


def test_national_holidays_close_the_line_f_route_7() -> None:
    italy = hours(holidays="IT")
    assert not is_open(italy, rome(2025, 12, 25, 10))  # Natale
    assert not is_open(italy, rome(2025, 4, 25, 10))  # Festa della Liberazione (Friday)
    assert not is_open(italy, rome(2025, 6, 2, 10))  # Festa della Repubblica (Monday)
    assert is_open(italy, rome(2025, 6, 3, 10))
    assert is_open(hours(), rome(2025, 6, 2, 10))  # without the calendar, a working day
    assert is_holiday(hours(holidays="US-CA"), date(2025, 3, 31))  # César Chávez Day
    assert not is_holiday(hours(holidays="US"), date(2025, 3, 31))


def test_holiday_is_the_local_date_not_the_utc_date_f_route_7() -> None:
    italy = hours(holidays="IT", open=["00:00-24:00"], days_off=[])
    # 23:30 UTC on Christmas Eve is already Christmas Day in Rome
    assert not is_open(italy, datetime(2025, 12, 24, 23, 30, tzinfo=UTC))
    assert is_open(italy, datetime(2025, 12, 24, 22, 30, tzinfo=UTC))


def test_custom_closed_dates_f_route_7() -> None:
    custom = hours(dates=["2025-08-14", date(2025, 12, 31)])
    assert not is_open(custom, rome(2025, 8, 14, 10))
    assert not is_open(custom, rome(2025, 12, 31, 10))
    assert is_open(custom, rome(2025, 8, 13, 10))


def test_a_naive_clock_is_refused_f_route_7() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(hours(), datetime(2025, 1, 15, 10))
