"""Age bands: the bot's copy has a variant for each."""

from __future__ import annotations

MIN_AGE = 6
MAX_AGE = 18
AGE_GROUPS = ("6-9", "10-13", "14-18")


def age_group(age: int) -> str:
    if not MIN_AGE <= age <= MAX_AGE:
        raise ValueError(f"age {age} is outside {MIN_AGE}-{MAX_AGE}")
    if age <= 9:
        return "6-9"
    if age <= 13:
        return "10-13"
    return "14-18"
