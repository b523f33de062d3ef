"""A concern of unclear kind (no rule named it) inside a form: the answer is kept exactly
as it would have been without the concern, one gentle line follows, and nothing of the
safety check happens (no check, no `safety_level`, no count, no alert). Real domain,
real migrated SQLite database; the dialogue itself runs in tests/e2e/test_safety.py."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.answers import ValidateSayForm
from actions.common import latest_intent
from actions.safety import ValidateSafetyForm
from actions.wishes import ValidateWishForm
from bot.domain import load_domain
from bot.storage.models import Answer, Wish
from scripts import gen_form_rules
from tests.actions.conftest import load_tracker, responses, validate_slot
from tests.safety.conftest import all_alerts

NOTE = "utter_safety_unclear_note"
SAFETY_SLOTS = {"safety_level", "safety_concerns", "safe_now", "safety_reasks"}
DOMAIN = load_domain()


def _tracker(slot: str, text: str, form: str, intent: str, *, unclear: bool) -> Any:
    """The tracker as Rasa hands it over: with an unclear concern the NLU component puts
    `safety_unclear` on top and keeps the rest of the ranking (bot/nlu/safety.py)."""
    t = load_tracker(text=text, active_loop={"name": form}, slots={"requested_slot": slot})
    ranking = [{"name": intent, "confidence": 0.8}, {"name": "inform", "confidence": 0.1}]
    if unclear:
        t.latest_message["intent"] = {"name": "safety_unclear", "confidence": 1.0}
        t.latest_message["intent_ranking"] = [t.latest_message["intent"], *ranking]
        t.latest_message["entities"] = [
            {"entity": "safety_tier", "value": "concern", "start": 0, "end": len(text)},
            {"entity": "safety_category", "value": "unclear", "start": 0, "end": len(text)},
        ]
    else:
        t.latest_message["intent"] = ranking[0]
        t.latest_message["intent_ranking"] = ranking
    return t


async def _validate(form: Any, slot: str, text: str, form_name: str, intent: str = "inform",
                    *, unclear: bool) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    slots = await validate_slot(form, slot, text, dispatcher,
                                _tracker(slot, text, form_name, intent, unclear=unclear),
                                DOMAIN)
    return slots, responses(dispatcher)


def _rows(sessions: Any, model: Any) -> list[Any]:
    with sessions.begin() as session:
        return list(session.scalars(select(model).order_by(model.id)))


async def test_a_wish_with_an_unclear_concern_is_stored_then_one_gentle_line(
        configured, linked_child):
    linked_child()
    text = "dat ik meer zelf wil beslissen"
    plain, said_plain = await _validate(ValidateWishForm(), "wish", text, "wish_form",
                                        unclear=False)
    unclear, said = await _validate(ValidateWishForm(), "wish", text, "wish_form",
                                    unclear=True)
    # The same answer, stored the same way; the line comes after what the form says.
    assert {k: v for k, v in unclear.items() if k != "last_wish_id"} == \
        {k: v for k, v in plain.items() if k != "last_wish_id"}
    assert unclear["wish"] == text
    assert said == [*said_plain, NOTE] and said_plain == ["utter_wish_saved"]
    assert not SAFETY_SLOTS & set(unclear)
    assert [w.text for w in _rows(configured, Wish)] == [text, text]
    assert all_alerts(configured) == []


@pytest.mark.parametrize(("text", "intent", "expected"), [
    ("nee hoor", "deny", False),      # a skip is still a skip
    ("ja", "affirm", None),           # too short a yes: "tell me more", as always
])
async def test_a_yes_or_no_is_still_read_as_one(configured, linked_child, text, intent,
                                                expected):
    linked_child()
    plain, said_plain = await _validate(ValidateSayForm(), "own_say", text, "say_form",
                                        intent, unclear=False)
    unclear, said = await _validate(ValidateSayForm(), "own_say", text, "say_form", intent,
                                    unclear=True)
    assert unclear == plain == {"own_say": expected}
    assert said == [*said_plain, NOTE]
    assert _rows(configured, Answer) == []


async def test_the_safety_check_reads_it_as_its_answer_without_a_line(configured):
    slots, said = await _validate(ValidateSafetyForm(), "safe_now", "ja", "safety_form",
                                  "affirm", unclear=True)
    assert slots == {"safe_now": "safe"}
    assert NOTE not in said
    assert all_alerts(configured) == []


def test_latest_intent_is_the_message_without_the_concern():
    assert latest_intent(_tracker("wish", "nee", "wish_form", "deny", unclear=True)) == "deny"
    bare = _tracker("wish", "x", "wish_form", "deny", unclear=True)
    bare.latest_message["intent_ranking"] = []
    assert latest_intent(bare) == "nlu_fallback"
    assert latest_intent(_tracker("wish", "x", "wish_form", "skip", unclear=False)) == "skip"


def test_no_rule_leaves_a_form_for_an_unclear_concern_and_every_answer_takes_it():
    """The form runs first on every message (RulePolicy's loop happy path) and only a
    generated rule could leave it; no free answer may refuse it, or the form would
    reject the message and the safety check would start after all."""
    assert "safety_unclear" not in gen_form_rules.INTERRUPTIONS
    rules = gen_form_rules.build()
    assert "safety_unclear" not in rules
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot.get("mappings") or []:
            if mapping.get("type") == "from_text":
                assert "safety_unclear" not in (mapping.get("not_intent") or []), name


def test_answer_intents_and_interruptions_cover_every_intent_once():
    """An unclear concern stays in the form only on what a form reads as an answer
    (bot.nlu.safety.ANSWER_INTENTS); on "stop", "help", "hoi"... it leaves, as a concern.
    A new intent must be put on one side."""
    import ast

    from bot.settings import PROJECT_ROOT

    source = (PROJECT_ROOT / "bot" / "nlu" / "safety.py").read_text()
    tree = ast.parse(source)
    answers: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "ANSWER_INTENTS" for t in node.targets):
            answers = {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
    intents = {i if isinstance(i, str) else next(iter(i)) for i in DOMAIN["intents"]}
    interruptions = set(gen_form_rules.INTERRUPTIONS)
    assert answers and not answers & interruptions
    assert intents == (answers - {"nlu_fallback"}) | interruptions | {"safety_unclear"}
