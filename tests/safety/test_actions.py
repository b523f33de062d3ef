"""actions/safety.py with trackers, the real domain and a real migrated SQLite database."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import sessionmaker

from actions import deps
from actions.safety import ActionSafetyAlarm, ActionSafetyClose, ValidateSafetyForm
from bot.domain import load_domain
from bot.safety import notify
from bot.storage.db import make_engine
from tests.actions.conftest import responses, slot_events, validate_slot
from tests.safety.conftest import all_alerts, tracker, with_mail


async def run_alarm(text: str, **kwargs: Any) -> tuple[list[str], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionSafetyAlarm().run(dispatcher, tracker(text, **kwargs), {})
    await notify.wait_for_background()
    return responses(dispatcher), events


async def answer(text: str, intent: str, **slots: Any) -> tuple[list[str], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    result = await validate_slot(
        ValidateSafetyForm(), "safe_now", text, dispatcher,
        tracker(text, intent=intent, active_loop="safety_form",
                slots={"requested_slot": "safe_now", **slots}),
        load_domain(),
    )
    await notify.wait_for_background()
    return responses(dispatcher), result


async def test_an_alarm_mid_form_helps_and_stores_an_alert(configured, linked_child):
    child_id = linked_child()
    long_message = ("ik wil graag op voetbal blijven en ik hou van tekenen. "
                    "maar thuis slaat mijn vader me elke avond")
    start = long_message.index("maar")
    said, events = await run_alarm(
        long_message, category="physical_abuse", active_loop="wish_form",
        slots={"requested_slot": "wish"},
    )
    assert said == ["utter_safety_alarm"]
    assert slot_events(events) == {"safe_now": None, "safety_reasks": 0, "safety_let_go": 0,
                                   "safety_level": "alarm"}
    (alert,) = all_alerts(configured)
    assert alert.child_id == child_id and alert.caseworker_id is not None
    assert alert.category == "physical_abuse" and alert.channel == "rest"
    assert alert.acknowledged_at is None
    # No mail server and no Telegram configured: stored, not notified (the worker retries).
    assert alert.notified_at is None
    # Only the words that raised the alarm (the entity's span), not the whole message.
    dispatcher = CollectingDispatcher()
    span_tracker = tracker(long_message, category="neglect")
    span_tracker.latest_message["entities"][0].update(start=start, end=len(long_message))
    await ActionSafetyAlarm().run(dispatcher, span_tracker, {})
    stored = {a.category: a.excerpt for a in all_alerts(configured)}
    assert stored["neglect"] == long_message[start:]
    assert "voetbal" not in stored["neglect"]


async def test_an_alarm_before_linking_goes_to_the_safeguarding_contact(configured):
    said, _ = await run_alarm("ik wil dood", category="suicide", sender="rest-nobody",
                              slots={"linked": False, "age_group": None})
    assert said == ["utter_safety_alarm_self"]
    (alert,) = all_alerts(configured)
    assert alert.child_id is None and alert.caseworker_id is None
    assert alert.category == "suicide" and len(alert.sender_hash) == 64


async def test_a_classifier_only_alarm_is_unclear(configured):
    said, _ = await run_alarm("het gaat echt niet goed thuis", category=None)
    assert said == ["utter_safety_alarm"]
    assert [a.category for a in all_alerts(configured)] == ["unclear"]


async def test_the_same_alarm_again_is_one_alert(configured, linked_child):
    linked_child()
    await run_alarm("hij slaat me", category="physical_abuse")
    await run_alarm("hij slaat me weer", category="physical_abuse")
    await run_alarm("en ik wil dood", category="suicide")
    assert sorted(a.category for a in all_alerts(configured)) == ["physical_abuse", "suicide"]


async def test_the_alarm_is_mailed_at_once(configured, linked_child, settings, smtp):
    linked_child()
    deps.configure(with_mail(settings, smtp.port), configured)
    await run_alarm("mijn stiefvader slaat me", category="physical_abuse")
    (alert,) = all_alerts(configured)
    assert alert.notified_at is not None
    (mail,) = smtp.inbox.messages
    recipients, message = mail
    assert recipients[0].startswith("cw-")  # the child's caseworker
    body = message.get_payload(decode=True).decode()
    assert f"python -m bot ack {alert.id}" in body
    assert "stiefvader" not in body, "the child's words stay in Mijn Stem"


async def test_the_reply_never_waits_for_a_broken_database(settings, tmp_path, smtp):
    broken = make_engine(settings, f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    deps.configure(with_mail(settings, smtp.port), sessionmaker(broken))
    said, _ = await run_alarm("hij slaat me", category="physical_abuse", sender="rest-db-down")
    assert said == ["utter_safety_alarm"]
    # Not stored, but the safeguarding contact still hears of it.
    ((recipients, message),) = smtp.inbox.messages
    assert recipients == ["veilig@test.invalid"]
    assert "niet worden opgeslagen" in message.get_payload(decode=True).decode()


async def test_yes_i_am_safe(configured):
    said, result = await answer("ja", "affirm")
    assert said == [] and result == {"safe_now": "safe"}


async def test_no_means_not_safe_and_raises_an_urgent_alert(configured, linked_child):
    linked_child()
    said, result = await answer("nee", "deny")
    assert said == ["utter_safety_not_safe"]
    assert result == {"safe_now": None, "safety_reasks": 1,  # asked again
                      "safety_level": "alarm"}
    assert [a.category for a in all_alerts(configured)] == ["danger_now"]
    said, result = await answer("nee", "deny", safety_reasks=2)
    assert said == ["utter_safety_not_safe"]
    assert result == {"safe_now": "unsafe", "safety_level": "alarm"}
    assert len(all_alerts(configured)) == 1  # the same urgent alert, not a second one


@pytest.mark.parametrize(("text", "intent"), [
    ("laat maar zitten", "stop"), ("stop", "stop"), ("doei", "goodbye"), ("overslaan", "skip"),
])
async def test_laat_maar_does_not_drop_the_subject(configured, text, intent):
    said, result = await answer(text, intent)
    assert said == ["utter_safety_dont_drop"]
    assert result == {"safe_now": None, "safety_let_go": 1, "safety_reasks": 1}
    # The second time, the bot lets go and offers to go on later.
    said, result = await answer(text, intent, safety_let_go=1, safety_reasks=1)
    assert said == [] and result == {"safe_now": "later"}


async def test_unsure_or_unclear_answers_are_asked_again(configured):
    said, result = await answer("weet ik niet", "dont_know")
    assert said == ["utter_safety_unsure"] and result["safe_now"] is None
    said, result = await answer("hij is nu in de kamer ernaast", "inform")
    assert said == ["utter_safety_yes_or_no"] and result["safe_now"] is None
    said, result = await answer("hmm", "nlu_fallback", safety_reasks=2)
    assert said == [] and result == {"safe_now": "later"}


async def test_an_answer_the_form_did_not_ask_for_is_ignored(configured):
    dispatcher = CollectingDispatcher()
    result = await validate_slot(
        ValidateSafetyForm(), "safe_now", "hij slaat me", dispatcher,
        tracker("hij slaat me", active_loop="safety_form"), load_domain(),
    )
    assert result == {"safe_now": None} and dispatcher.messages == []


@pytest.mark.parametrize(("answer_value", "response"), [
    ("safe", "utter_safety_glad"), ("unsafe", "utter_safety_keep_help"),
    ("later", "utter_safety_later"), (None, "utter_safety_later"),
])
async def test_the_safety_check_ends_kindly(configured, answer_value, response):
    dispatcher = CollectingDispatcher()
    events = await ActionSafetyClose().run(
        dispatcher, tracker("ja", intent="affirm", slots={"safe_now": answer_value}), {}
    )
    assert responses(dispatcher) == [response]
    assert slot_events(events)["safe_now"] is None


def test_settings_carry_the_alert_configuration(settings):
    assert settings.smtp_host is None and settings.alert_escalation_minutes == 30
    changed = settings.model_copy(update={"alert_escalation_minutes": 5})
    assert changed.alert_escalation_minutes == 5
