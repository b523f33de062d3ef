"""Dutch working days for deadlines (bot/workdays.py)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from bot.workdays import add_working_days, is_working_day, working_days_between


def test_weekends_and_dutch_holidays_do_not_count():
    assert not is_working_day(date(2026, 12, 5))  # Saturday
    assert not is_working_day(date(2026, 12, 25))  # Christmas
    assert not is_working_day(date(2026, 4, 27))  # King's Day
    assert is_working_day(date(2026, 12, 7))


def test_deadline_is_end_of_nth_working_day_in_dutch_time():
    friday_evening = datetime(2026, 12, 4, 20, 0, tzinfo=timezone.utc)  # 21:00 in NL
    # Friday + 2 working days = Tuesday, 23:59:59 CET = 22:59:59 UTC.
    assert add_working_days(friday_evening, 2) == datetime(2026, 12, 8, 22, 59, 59,
                                                           tzinfo=timezone.utc)
    # Over Christmas: Wed 23 Dec + 2 = Thu 24 Dec, then 25/26/27 off, Mon 28 Dec.
    before_christmas = datetime(2026, 12, 23, 9, 0, tzinfo=timezone.utc)
    assert add_working_days(before_christmas, 2).date() == date(2026, 12, 28)
    # Late on Sunday night in UTC is already Monday in the Netherlands.
    sunday_utc = datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc)
    assert add_working_days(sunday_utc, 1).date() == date(2026, 12, 8)
    # Summer time: the deadline is 23:59:59 CEST = 21:59:59 UTC.
    june = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
    assert add_working_days(june, 1) == datetime(2026, 6, 2, 21, 59, 59, tzinfo=timezone.utc)


def test_working_days_between():
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    next_monday = datetime(2026, 12, 14, 9, 0, tzinfo=timezone.utc)
    assert working_days_between(monday, next_monday) == 5
    assert working_days_between(monday, monday) == 0
