"""Which sector of the network circle a person belongs in, from the normalised role word
of bot/people.py (bot/lexicon/nl_people.yml). A person without a known role goes to
"other", drawn between the sectors' labels so that no one is left out."""

from __future__ import annotations

from typing import Final

# In drawing order, clockwise from the top. The Dutch labels are in the templates and
# the picture's legend (bot/network/circle.py takes them as an argument).
SECTORS: Final = ("family", "foster_family", "friends", "school_sport", "professionals")
OTHER: Final = "other"

ROLE_SECTOR: Final[dict[str, str]] = {
    # own family
    "moeder": "family",
    "vader": "family",
    "ouders": "family",
    "oma": "family",
    "opa": "family",
    "broer": "family",
    "zus": "family",
    "halfbroer": "family",
    "halfzus": "family",
    "stiefmoeder": "family",
    "stiefvader": "family",
    "stiefbroer": "family",
    "stiefzus": "family",
    "tante": "family",
    "oom": "family",
    "neef": "family",
    "nicht": "family",
    "familie": "family",
    # foster family
    "pleegmoeder": "foster_family",
    "pleegvader": "foster_family",
    "pleegouders": "foster_family",
    "pleegbroer": "foster_family",
    "pleegzus": "foster_family",
    # friends, neighbours and pets: the child's own circle outside family and school
    "vriend": "friends",
    "vriendin": "friends",
    "buurman": "friends",
    "buurvrouw": "friends",
    "buren": "friends",
    "huisdier": "friends",
    # school and sport
    "klasgenoot": "school_sport",
    "juf": "school_sport",
    "meester": "school_sport",
    "leraar": "school_sport",
    "trainer": "school_sport",
    # professionals
    "jeugdzorgwerker": "professionals",
    "begeleider": "professionals",
    "therapeut": "professionals",
}

# Roles that count as brothers and sisters, or parents (the team's figures ask how many
# children want more contact with them).
SIBLING_ROLES: Final = frozenset({"broer", "zus", "halfbroer", "halfzus", "stiefbroer", "stiefzus"})
PARENT_ROLES: Final = frozenset({"moeder", "vader", "ouders"})


def sector_of(role: str | None) -> str:
    if role is None:
        return OTHER
    return ROLE_SECTOR.get(role.strip().lower(), OTHER)
