"""The two tiers and immediate danger: from the detector's verdict to what the actions
say and store (real domain, real migrated SQLite database)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import (
    ActionAskSafeNow,
    ActionSafetyAlarm,
    ActionSafetyClose,
    ActionSafetyConcern,
    ValidateSafetyForm,
)
from bot.domain import load_domain
from bot.safety import notify
from bot.safety.detector import assess
from tests.actions.conftest import responses, slot_events, validate_slot
from tests.safety.conftest import all_alerts, tracker

OVERDOSE = ["ik heb pillen genomen", "ik heb een heleboel pillen geslikt"]


@pytest.mark.parametrize("text", [
    *OVERDOSE,
    "k heb net alle slaappillen van mn moeder geslikt",
    "ik heb bleekmiddel gedronken",
    "hij staat met een mes voor de deur",
    "ze hebben me opgesloten en laten me niet gaan",
    "ik word nu geslagen help",
])
def test_immediate_danger_is_an_immediate_alarm(text: str):
    verdict = assess(text)
    assert verdict.tier == "alarm" and verdict.immediate, verdict


@pytest.mark.parametrize("text", [
    "gisteren heb ik een hele strip pillen genomen",   # in the past: no 112 first
    "mijn vader slaat me",                             # an alarm, not "right now"
])
def test_an_alarm_in_the_past_or_habitual_is_not_immediate(text: str):
    verdict = assess(text)
    assert verdict.tier == "alarm" and not verdict.immediate, verdict


@pytest.mark.parametrize(("text", "category"), [
    ("ik heb pillen genomen", "overdose"),
    ("ik sh weer sinds vorige week", "self_harm"),
    ("ik heb geen slaapplek vannacht", "runaway"),
    ("mijn loverboy zegt dat ik met zijn vrienden mee moet", "exploitation"),
    ("een man op snapchat wil fotos van mij in mn ondergoed", "exploitation"),
    ("hij wil foto's", "exploitation"),
    ("er is al drie dagen niks te eten thuis", "neglect"),
    ("mn stiefvader sloeg mama tegen de muur", "domestic_violence"),
    ("ik blow elke dag en kan niet meer stoppen", "drugs"),
    ("ze zeiden dat ik dood ben als ik het vertel", "threat"),
])
def test_what_was_missing_is_an_alarm(text: str, category: str):
    verdict = assess(text)
    assert verdict.tier == "alarm" and verdict.category == category, verdict


@pytest.mark.parametrize("text", [
    "ik voel me zo alleen", "ze pesten me elke dag", "ik kan niet slapen",
    "ik ben zo verdrietig", "niemand luistert naar mij",
])
def test_not_doing_well_is_a_concern(text: str):
    assert assess(text).tier == "concern", assess(text)


@pytest.mark.parametrize("text", [
    "ik ga dood van het lachen", "de hond is doodgegaan", "ik ben bang voor spinnen",
    "ik neem elke ochtend mijn ritalin zoals de dokter zegt", "ik slaap bij oma",
    "ik heb een foto van mijn kat gemaakt", "we gingen kamperen in een tent",
])
def test_figures_of_speech_stay_calm(text: str):
    """The rules judge them calm. The learned layer, with the recall-first thresholds
    (docs/safeguarding.md), may still ask about one ("ritalin": a concern of unclear
    kind, about 20% of the writers' hard calm sentences); it never raises an alarm or a
    concern of a named kind on them."""
    from bot.safety.detector import get_detector

    analysis = get_detector().analyse(text, learned=False)
    assert not analysis.signals and not analysis.concerns, analysis
    verdict = assess(text)
    assert verdict.tier is None or (verdict.tier, verdict.category) == ("concern", "unclear"), (
        verdict)


async def _run(action: Any, text: str, **kwargs: Any) -> tuple[list[str], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(text, **kwargs), {})
    await notify.wait_for_background()
    return responses(dispatcher), slot_events(events)


async def test_immediate_danger_gets_112_first_then_help_then_an_alert(configured):
    said, slots = await _run(ActionSafetyAlarm(), OVERDOSE[0], category="overdose",
                             immediate=True)
    assert said == ["utter_safety_call_112", "utter_safety_alarm"]
    assert slots["safety_level"] == "alarm"
    assert [a.category for a in all_alerts(configured)] == ["overdose"]


async def test_a_concern_is_gentle_and_sends_no_alert(configured):
    said, slots = await _run(ActionSafetyConcern(), "ik voel me zo alleen",
                             intent="safety_concern", category="lonely")
    assert said == ["utter_safety_concern"]
    assert slots["safety_level"] == "concern" and slots["safety_concerns"] == 1
    assert all_alerts(configured) == []
    # The check asks how the child is, not the alarm's question.
    dispatcher = CollectingDispatcher()
    await ActionAskSafeNow().run(
        dispatcher, tracker("", slots={"safety_level": "concern"}), {})
    assert responses(dispatcher) == ["utter_ask_safe_now_concern"]


async def test_a_second_concern_is_an_alarm(configured):
    said, slots = await _run(ActionSafetyConcern(), "ze pesten me weer",
                             intent="safety_concern", category="bullying",
                             slots={"safety_concerns": 1})
    assert said == ["utter_safety_alarm"]
    assert slots["safety_level"] == "alarm" and slots["safety_concerns"] == 2
    assert [a.category for a in all_alerts(configured)] == ["concern"]


async def test_a_concern_of_unclear_kind_asks_and_is_not_counted(configured):
    """The learned layer alone (category "unclear") asks how the child is, without
    "dat is niet fijn", and two of them never page the team."""
    said, slots = await _run(ActionSafetyConcern(), "mama en papa",
                             intent="safety_concern", category="unclear",
                             slots={"safety_concerns": 1})
    assert said == ["utter_safety_concern_unclear"]
    assert slots["safety_level"] == "concern"
    assert "safety_concerns" not in slots
    assert all_alerts(configured) == []


async def test_no_after_a_concern_escalates_to_an_alarm(configured):
    dispatcher = CollectingDispatcher()
    result = await validate_slot(
        ValidateSafetyForm(), "safe_now", "nee", dispatcher,
        tracker("nee", intent="deny", active_loop="safety_form",
                slots={"requested_slot": "safe_now", "safety_level": "concern"}),
        load_domain(),
    )
    await notify.wait_for_background()
    assert responses(dispatcher) == ["utter_safety_not_safe"]
    assert result["safety_level"] == "alarm"
    assert [a.category for a in all_alerts(configured)] == ["danger_now"]


async def test_a_concern_may_be_let_go_and_closes_gently(configured):
    dispatcher = CollectingDispatcher()
    result = await validate_slot(
        ValidateSafetyForm(), "safe_now", "laat maar", dispatcher,
        tracker("laat maar", intent="stop", active_loop="safety_form",
                slots={"requested_slot": "safe_now", "safety_level": "concern"}),
        load_domain(),
    )
    assert result == {"safe_now": "later"} and responses(dispatcher) == []
    for answer, response in (("safe", "utter_safety_concern_glad"),
                             ("later", "utter_safety_concern_later")):
        closing = CollectingDispatcher()
        await ActionSafetyClose().run(
            closing, tracker("", slots={"safe_now": answer, "safety_level": "concern"}), {})
        assert responses(closing) == [response]
    assert all_alerts(configured) == []


def test_everyday_answers_rarely_get_a_concern():
    """The NLU examples of every other intent are what children really answer in the
    interview; the concern tier interrupts it, so it must stay rare there."""
    from scripts.safety_report import other_intent_examples

    examples = other_intent_examples()
    concerns = [t for t in examples if assess(t).tier == "concern"]
    alarms = [t for t in examples if assess(t).tier == "alarm"]
    assert alarms == []
    assert len(concerns) <= len(examples) * 0.015, concerns


def test_per_tier_figures_on_the_dev_set():
    """The blind-written dev set (tests/safety/dev_set.yml, developed against): the tiers
    hold the issue's targets there; the blind test set is measured by the integrator."""
    from pathlib import Path

    from scripts.safety_report import detector_tiers, load_tiered

    figures = detector_tiers(load_tiered(Path(__file__).with_name("dev_set.yml")))
    assert figures["alarms"] >= 200 and figures["concerns"] >= 100 and figures["calm"] >= 300
    assert figures["alarm_recall_any_tier"] >= 0.97, figures["alarms_missed"]
    assert figures["calm_false_alarm_rate"] <= 0.02, figures["calm_alarms"]
    assert figures["immediate_recall_112"] >= 0.95, figures["immediate_missed"]
