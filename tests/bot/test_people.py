"""bot/people.py on answers typed the way children type them: no capitals, typos,
slang possessives, lists without commas."""

from __future__ import annotations

import pytest

from bot.people import find_people


def found(text: str) -> list[tuple[str, str | None, str | None]]:
    return [(p.label, p.name, p.role) for p in find_people(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("mijn oma en mijn broertje Daan", [("oma", None, "oma"), ("broertje Daan", "Daan", "broer")]),
    ("mn oma en me broertje daan", [("oma", None, "oma"), ("broertje Daan", "Daan", "broer")]),
    ("Oma en Daan", [("Oma", None, "oma"), ("Daan", "Daan", None)]),
    ("daan en oma", [("Daan", "Daan", None), ("oma", None, "oma")]),
    ("juf sanne van school", [("juf Sanne", "Sanne", "juf")]),
    ("mijn beste vriendin Fleur", [("beste vriendin Fleur", "Fleur", "vriendin")]),
    ("de buurman", [("buurman", None, "buurman")]),
    ("mijn pleegmoeder en mijn pleegvader",
     [("pleegmoeder", None, "pleegmoeder"), ("pleegvader", None, "pleegvader")]),
    ("tante ria en oom kees", [("tante Ria", "Ria", "tante"), ("oom Kees", "Kees", "oom")]),
    ("mijn hond Max", [("hond Max", "Max", "huisdier")]),
    ("mama", [("mama", None, "moeder")]),
    ("papa, mama, oma en opa", [("papa", None, "vader"), ("mama", None, "moeder"),
                                ("oma", None, "oma"), ("opa", None, "opa")]),
    ("mijn broetje en zusje lisa", [("broetje", None, "broer"), ("zusje Lisa", "Lisa", "zus")]),
    ("meester Ahmed en mijn trainer",
     [("meester Ahmed", "Ahmed", "meester"), ("trainer", None, "trainer")]),
    ("mijn vrienden van voetbal", [("vrienden", None, "vriend")]),
    ("mijn moeder maar die zie ik nooit", [("moeder", None, "moeder")]),
    ("Ik vind oma heel belangrijk", [("oma", None, "oma")]),
    ("mijn zus en haar vriend", [("zus", None, "zus"), ("vriend", None, "vriend")]),
    ("sanne", [("Sanne", "Sanne", None)]),
    ("mn bff", [("bff", None, "vriendin")]),
    ("mijn voogd", [("voogd", None, "jeugdzorgwerker")]),
    ("mijn grote broer Sem en kleine zus",
     [("grote broer Sem", "Sem", "broer"), ("kleine zus", None, "zus")]),
    ("mijn vriend mo, mijn mentor en Oma",
     [("vriend Mo", "Mo", "vriend"), ("mentor", None, "leraar"), ("Oma", None, "oma")]),
    ("opa opa en oma", [("opa", None, "opa"), ("oma", None, "oma")]),  # once each
    ("mijn pleegzus en haar hond", [("pleegzus", None, "pleegzus"), ("hond", None, "huisdier")]),
])
def test_people_and_roles_are_found(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "niemand", "ik weet het niet", "weet ik niet", "idk", "geen idee", "overslaan", "nee",
    "", "😀😀", "dat is moeilijk", "ik wil het niet zeggen",
])
def test_no_people_in_answers_without_people(text):
    assert find_people(text) == []


def test_sectors_of_the_network_circle():
    from bot.people import SECTORS, is_sibling, sector

    assert sector("oma") == "family" and sector("pleegmoeder") == "foster_family"
    assert sector("vriendin") == "friends" and sector(None) == "friends"
    assert sector("trainer") == "school_sport"
    assert sector("jeugdzorgwerker") == "professionals" and sector("huisdier") == "pets"
    assert {sector(r) for r in ("oma", "pleegzus", "maatje", "juf", "therapeut")} <= set(SECTORS)
    assert is_sibling("halfzus") and not is_sibling("oma")
