"""The lines the bridge says itself come from the domain, in the child's age band."""

from __future__ import annotations

import pytest

from bot.domain import load_domain
from bot.telegram.texts import DomainResponses

DOMAIN = load_domain()
RESPONSES = DomainResponses.load()


def _variant(name: str, band: str | None) -> str:
    for variant in DOMAIN["responses"][name]:
        conditions = variant.get("condition") or []
        if band is None and not conditions:
            return variant["text"]
        if band is not None and any(c.get("value") == band for c in conditions):
            return variant["text"]
    raise AssertionError(f"{name} has no variant for {band}")


@pytest.mark.parametrize("band", ["6-9", "10-13", "14-18", None])
def test_busy_text_follows_the_age_band(band: str | None):
    assert RESPONSES.text("utter_busy", band) == _variant("utter_busy", band)


def test_unknown_band_gets_the_default_and_unknown_names_fail():
    assert RESPONSES.text("utter_busy", "99-100") == _variant("utter_busy", None)
    with pytest.raises(KeyError):
        RESPONSES.text("utter_does_not_exist")


def test_variant_choice_is_rasas_first_match():
    responses = DomainResponses({"utter_x": [
        {"condition": [{"type": "slot", "name": "age_group", "value": "6-9"}], "text": "jong"},
        {"text": "standaard"},
        {"condition": [{"type": "slot", "name": "age_group", "value": "14-18"}], "text": "oud"},
    ]})
    assert responses.text("utter_x", "6-9") == "jong"
    assert responses.text("utter_x", "14-18") == "oud"
    assert responses.text("utter_x", None) == "standaard"
