"""Working hours of a line (F-ROUTE-7): is the line open at an instant?

The instant is converted to the line's own time zone (``zoneinfo``), so
daylight-saving changes and callers in other zones need no special cases: the
local weekday and wall-clock time decide. A day is closed when it is a day
off, a national holiday of the configured country (the ``holidays``
package) or one of the custom dates; otherwise it is open within its ranges
(the weekday's own, or the common ``open`` ranges), start included, end
excluded.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays as holidays_package

    from softswitch.config.routing import Hours, Weekday

__all__ = ["is_holiday", "is_open"]

_WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _calendar(code: str) -> holidays_package.HolidayBase:
    from softswitch.config.routing import calendar

    return calendar(code)


def is_holiday(hours: Hours, day: date) -> bool:
    """Whether ``day`` is a national holiday or a custom closed date of these hours."""
    if day in hours.dates:
        return True
    return hours.holidays is not None and day in _calendar(hours.holidays)


def is_open(hours: Hours, now: datetime) -> bool:
    """Whether the line is open at ``now`` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("working hours need an aware datetime (with a time zone)")
    local = now.astimezone(_zone(hours.timezone))
    weekday = _WEEKDAYS[local.weekday()]
    if weekday in hours.days_off and weekday not in hours.days:
        return False
    if is_holiday(hours, local.date()):
        return False
    minute = local.hour * 60 + local.minute
    spans = hours.days.get(weekday, hours.open)
    return any(span.start <= minute < span.end for span in spans)
