"""The network circle: every role of the lexicon has a sector, the picture is drawn by
matplotlib as SVG and PNG, and the child's words in it are plain text."""

from __future__ import annotations

import yaml

from bot.network.circle import CirclePerson, render_circle_png, render_circle_svg, safe_label
from bot.network.sectors import OTHER, SECTORS, sector_of
from bot.people import LEXICON

PEOPLE = [
    CirclePerson("oma Truus", "oma", 1, "more"),
    CirclePerson("pleegmama", "pleegmoeder", 1, "same"),
    CirclePerson("Mo", "vriend", 2, None),
    CirclePerson("juf Sanne", "juf", 3, "less"),
    CirclePerson("de voogd", "jeugdzorgwerker", 2, None),
    CirclePerson("iemand", None, None, None),
]


def test_every_role_has_a_sector() -> None:
    roles = yaml.safe_load(LEXICON.read_text())["roles"]
    assert {role: sector_of(role) for role in roles if sector_of(role) == OTHER} == {}
    assert sector_of("pleegvader") == "foster_family" and sector_of("broer") == "family"
    assert sector_of("trainer") == "school_sport" and sector_of("therapeut") == "professionals"
    assert sector_of(None) == OTHER and sector_of("onbekend") == OTHER
    assert len(SECTORS) == 5


def test_svg_has_everyone_and_the_sectors() -> None:
    svg = render_circle_svg(PEOPLE)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for person in PEOPLE:
        assert person.label in svg
    for word in ["Eigen familie", "Pleeggezin", "Vrienden", "School en sport", "Hulpverleners"]:
        assert word in svg
    assert "wil meer contact" in svg and "wil minder contact" in svg
    assert render_circle_svg(PEOPLE) == svg  # deterministic: no dates, fixed ids


def test_the_childs_words_stay_text() -> None:
    evil = CirclePerson('<script>alert("x")</script>', "vriend", 1, "more")
    maths = CirclePerson("$\\frac{1}{2}$ & co", "oma", 2, None)
    svg = render_circle_svg([evil, maths])
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert "$\\frac{1}{2}$ &amp; co" in svg  # mathtext is off: shown as typed
    assert safe_label("a\u202eb\x00c\n  d") == "abc d"
    assert len(safe_label("x" * 100)) == 22


def test_png_for_the_chat() -> None:
    png = render_circle_png(PEOPLE)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
