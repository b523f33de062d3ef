"""Dutch working days for the answer loop's deadlines ("open within 2 working days,
answer within 10"): weekends and the national holidays of the `holidays` package (NL)
do not count. A deadline is the end of the Nth working day after the day an item
arrived, in Dutch time, so something shared on Friday evening is due to be opened by
the end of Tuesday."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Europe/Amsterdam")


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59 Dutch time, as UTC) of the `days`-th working day after the
    day of `start`."""
    if start.tzinfo is None:
        raise ValueError("naive datetime")
    if days < 0:
        raise ValueError("days must not be negative")
    day = start.astimezone(TZ).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    end = datetime.combine(day, time(23, 59, 59), tzinfo=TZ)
    return end.astimezone(timezone.utc)


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days after the day of `start` up to and including the day of `end`."""
    first = start.astimezone(TZ).date()
    last = end.astimezone(TZ).date()
    count = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
