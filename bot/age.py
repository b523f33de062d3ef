"""Age bands: the bot's copy has a variant for each.

A child's band follows their birthday: we store the birth month and year ("YYYY-MM",
encrypted) rather than a fixed age, so a child who turns ten while the case is open
gets the 10-13 copy from then on."""

from __future__ import annotations

import re
from datetime import date

MIN_AGE = 6
MAX_AGE = 18
AGE_GROUPS = ("6-9", "10-13", "14-18")

_BORN = re.compile(r"^(\d{4})-(\d{1,2})$")


def age_group(age: int) -> str:
    if not MIN_AGE <= age <= MAX_AGE:
        raise ValueError(f"age {age} is outside {MIN_AGE}-{MAX_AGE}")
    if age <= 9:
        return "6-9"
    if age <= 13:
        return "10-13"
    return "14-18"


def parse_born(text: str) -> tuple[int, int]:
    """"2018-03" -> (2018, 3); ValueError for anything else."""
    match = _BORN.match(text.strip())
    if not match:
        raise ValueError(f"not a birth month YYYY-MM: {text!r}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"not a month: {month}")
    return year, month


def born_from_age(age: int, today: date | None = None) -> str:
    """The birth month of a child who is `age` today, assuming the birthday is this
    month (the age given at invite time stays right for the coming year)."""
    today = today or date.today()
    return f"{today.year - age:04d}-{today.month:02d}"


def age_on(born: str, today: date | None = None) -> int:
    """Age in whole years; the birthday counts from the first of its month."""
    today = today or date.today()
    year, month = parse_born(born)
    return today.year - year - (1 if today.month < month else 0)


def current_age_group(
    *, born: str | None, stored: str | None, today: date | None = None
) -> str | None:
    """The band for today: from the birth month when known, else the stored band.
    Outside 6-18 the nearest band is used (a case may stay open past 18)."""
    if born is None:
        return stored
    try:
        age = age_on(born, today)
    except ValueError:
        return stored
    return age_group(min(max(age, MIN_AGE), MAX_AGE))
