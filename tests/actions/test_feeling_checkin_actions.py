""""Hoe voel ik me?" and the check-in before a meeting (issue 11; actions/feeling.py,
actions/checkin.py): trackers from the JSON fixture, the real domain, a real SQLite
database. Nothing reaches the caseworker without the child's yes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, text

from actions import deps
from actions.checkin import ActionAfterCheckin, ActionStartCheckin, ValidateCheckinForm
from actions.feeling import ActionAfterFeeling, ActionStartFeeling, ValidateFeelingForm
from actions.flow import ActionContinue
from bot.domain import load_domain
from bot.storage import loop, repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import CheckIn, ChildMessage, FollowUp, Notice, utcnow
from tests.actions.conftest import load_tracker, responses, slot_events, validate_slot


async def run(action, tracker) -> tuple[list[str], dict[str, Any], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, load_domain())
    return responses(dispatcher), slot_events(events), dispatcher.messages


async def validate(form, slot: str, text: str, intent: str = "inform", entities=None,
                   **slots: Any):
    dispatcher = CollectingDispatcher()
    tracker = load_tracker(text=text, intent=intent, entities=entities or [],
                           active_loop={"name": form.name().removeprefix("validate_")},
                           slots={"requested_slot": slot, **slots})
    result = await validate_slot(form, slot, text, dispatcher, tracker, load_domain())
    return result, responses(dispatcher)


def choice(key: str) -> list[dict[str, Any]]:
    return [{"entity": "choice", "value": key}]


# --- how I feel --------------------------------------------------------------------------


async def test_start_names_the_caseworker_and_clears_the_form(configured, linked_child):
    linked_child()
    said, slots, _ = await run(ActionStartFeeling(), load_tracker(intent="tell_feeling",
                                                                  text="/gevoel"))
    assert said == []
    assert slots == {"has_caseworker": True, "caseworker_name": "Sanne", "feeling": None,
                     "feeling_why": None, "feeling_share": None, "feeling_result": None}


async def test_unlinked_chat_is_told_to_link_and_nothing_is_promised(configured):
    _, slots, _ = await run(ActionStartFeeling(), load_tracker(intent="tell_feeling"))
    assert slots["feeling"] is False and slots["feeling_result"] == "unlinked"
    said, _, _ = await run(ActionAfterFeeling(), load_tracker(
        slots={"feeling_result": "unlinked"}))
    assert said == ["utter_link_needed_for_feeling"]


async def test_emoji_button_typed_word_and_unknown_answer(configured, linked_child):
    linked_child()
    form = ValidateFeelingForm()
    assert (await validate(form, "feeling", '/choose{"choice":"bang"}', intent="choose",
                           entities=choice("bang")))[0] == {"feeling": "bang"}
    assert (await validate(form, "feeling", "ik ben best vrolijk"))[0] == {"feeling": "blij"}
    # A negation is not trusted: "niet blij" is asked again with the buttons.
    result, said = await validate(form, "feeling", "niet blij")
    assert result == {"feeling": None} and said == ["utter_feeling_pick_one"]
    result, said = await validate(form, "feeling", "pannenkoek")
    assert result == {"feeling": None} and said == ["utter_feeling_pick_one"]
    result, _ = await validate(form, "feeling", "/skip", intent="skip")
    assert result["feeling_result"] == "cancelled" and result["feeling_share"] is False


async def test_shared_feeling_reaches_the_caseworker_like_a_message(configured, linked_child):
    child_id = linked_child()
    form = ValidateFeelingForm()
    result, _ = await validate(form, "feeling_why", "Ik mocht niet naar mama deze week")
    assert result == {"feeling_why": "Ik mocht niet naar mama deze week"}
    assert (await validate(form, "feeling_why", "overslaan", intent="skip"))[0] == {
        "feeling_why": False}
    result, said = await validate(form, "feeling_share", "ja", intent="affirm",
                                  feeling="verdrietig",
                                  feeling_why="Ik mocht niet naar mama deze week")
    assert said == []
    assert result == {"feeling_share": True, "feeling_why": False, "feeling_result": "sent"}
    with configured.begin() as session:
        message = session.scalars(select(ChildMessage)).one()
        assert (message.child_id, message.kind, message.feeling, message.text) == (
            child_id, "feeling", "verdrietig", "Ik mocht niet naar mama deze week")
        follow_up = session.scalars(select(FollowUp)).one()
        assert follow_up.message_id == message.id and follow_up.answer_due is not None
        assert loop.item_text(follow_up) == "verdrietig: Ik mocht niet naar mama deze week"
        assert session.scalars(select(Notice.kind)).all() == ["new_message"]
        # Encrypted at rest: neither the feeling nor the words are in the row as text.
        raw = session.execute(text("SELECT feeling, text FROM child_message")).one()
    assert "verdrietig" not in str(raw) and "mama" not in str(raw)
    said, slots, messages = await run(ActionAfterFeeling(), load_tracker(slots={
        "feeling_result": "sent", "has_caseworker": True, "caseworker_name": "Sanne"}))
    assert said == ["utter_feeling_sent"] and messages[0]["caseworker_name"] == "Sanne"
    assert slots["feeling"] is None and slots["feeling_why"] is None


async def test_a_feeling_without_why_can_be_shared(configured, linked_child):
    linked_child()
    result, _ = await validate(ValidateFeelingForm(), "feeling_share", "ja", intent="affirm",
                               feeling="trots", feeling_why=False)
    assert result["feeling_result"] == "sent"
    with configured.begin() as session:
        message = session.scalars(select(ChildMessage)).one()
        assert (message.feeling, message.text) == ("trots", None)


async def test_no_means_nothing_is_stored_or_sent(configured, linked_child):
    linked_child()
    result, _ = await validate(ValidateFeelingForm(), "feeling_share", "nee", intent="deny",
                               feeling="boos", feeling_why="mijn broer pest me")
    assert result == {"feeling_share": False, "feeling_why": False,
                      "feeling_result": "not_sent"}
    with configured.begin() as session:
        assert session.scalars(select(ChildMessage)).all() == []
        assert session.scalars(select(Notice)).all() == []
    said, _, _ = await run(ActionAfterFeeling(), load_tracker(
        slots={"feeling_result": "not_sent", "has_caseworker": True}))
    assert said == ["utter_feeling_not_sent"]


# --- the check-in -------------------------------------------------------------------------


def plan(sessions, child_id: int, due_on: date) -> int:
    with sessions.begin() as session:
        child = repo.get_child(session=session, child_id=child_id)
        return loop.plan_checkin(session=session, child=child, due_on=due_on,
                                 about="evaluatie zorgplan", planned_by="cli").id


async def test_checkin_starts_only_on_or_after_its_day(configured, linked_child):
    child_id = linked_child()
    plan(configured, child_id, utcnow().date() + timedelta(days=2))
    said, slots, _ = await run(ActionStartCheckin(), load_tracker(intent="start_checkin"))
    assert said == [] and slots["checkin_result"] == "none"
    later = plan(configured, child_id, utcnow().date())
    said, slots, _ = await run(ActionStartCheckin(), load_tracker(intent="start_checkin"))
    assert said == ["utter_checkin_intro"]
    assert slots["checkin_id"] == later and slots["caseworker_name"] == "Sanne"


async def test_action_continue_offers_a_due_checkin_first(configured, linked_child):
    child_id = linked_child()
    tracker = load_tracker(intent="greet", text="hoi", active_loop={},
                           latest_action_name="action_listen",
                           slots={"steps_done": ["wishes", "people", "trusted", "say",
                                                 "continuity", "heard", "summary"]})
    _, slots, _ = await run(ActionContinue(), tracker)
    assert slots["next_step"] != "checkin"  # nothing planned: the returning child's flow
    plan(configured, child_id, utcnow().date() - timedelta(days=1))
    said, slots, _ = await run(ActionContinue(), tracker)
    assert slots["next_step"] == "checkin"
    assert "utter_returning" not in said


async def test_checkin_answers_reach_the_caseworker_marked_with_the_checkin(
    configured, linked_child
):
    child_id = linked_child()
    checkin_id = plan(configured, child_id, utcnow().date())
    form = ValidateCheckinForm()
    result, _ = await validate(form, "checkin_changed", "Ik zit nu op voetbal")
    assert result == {"checkin_changed": "Ik zit nu op voetbal"}
    result, _ = await validate(form, "checkin_discuss", "Vaker naar papa",
                               checkin_changed="Ik zit nu op voetbal")
    assert result == {"checkin_discuss": "Vaker naar papa"}
    result, _ = await validate(form, "checkin_share", "ja", intent="affirm",
                               checkin_id=checkin_id, checkin_changed="Ik zit nu op voetbal",
                               checkin_discuss="Vaker naar papa")
    assert result["checkin_result"] == "sent" and result["checkin_changed"] is False
    said, _, _ = await run(ActionAfterCheckin(), load_tracker(slots={
        "checkin_result": "sent", "checkin_id": checkin_id, "has_caseworker": True,
        "caseworker_name": "Sanne"}))
    assert said == ["utter_checkin_sent"]
    with configured.begin() as session:
        messages = session.scalars(select(ChildMessage).order_by(ChildMessage.id)).all()
        assert [(m.kind, m.part, m.checkin_id, m.text) for m in messages] == [
            ("checkin", "changed", checkin_id, "Ik zit nu op voetbal"),
            ("checkin", "discuss", checkin_id, "Vaker naar papa")]
        assert len(session.scalars(select(FollowUp)).all()) == 2
        assert session.get(CheckIn, checkin_id).done_at is not None
        assert loop.due_checkin(session=session, child_id=child_id,
                                today=utcnow().date()) is None


async def test_checkin_without_yes_sends_nothing_but_is_done(configured, linked_child):
    child_id = linked_child()
    checkin_id = plan(configured, child_id, utcnow().date())
    result, _ = await validate(ValidateCheckinForm(), "checkin_share", "nee", intent="deny",
                               checkin_id=checkin_id, checkin_changed="verhuisd")
    assert result["checkin_result"] == "not_sent"
    said, _, _ = await run(ActionAfterCheckin(), load_tracker(slots={
        "checkin_result": "not_sent", "checkin_id": checkin_id}))
    assert said == ["utter_checkin_not_sent"]
    with configured.begin() as session:
        assert session.scalars(select(ChildMessage)).all() == []
        assert session.get(CheckIn, checkin_id).done_at is not None


async def test_nothing_said_skips_the_share_question(configured, linked_child):
    linked_child()
    result, _ = await validate(ValidateCheckinForm(), "checkin_discuss", "/skip", intent="skip",
                               checkin_changed=False)
    assert result == {"checkin_discuss": False, "checkin_share": False,
                      "checkin_result": "not_sent"}


# --- the shared "share with the caseworker" step (actions/sharing.py) ---------------------


async def test_a_dead_database_at_the_yes_keeps_the_answer_and_asks_again(
    configured, linked_child, settings
):
    """Feeling and check-in share one step: when the yes cannot be stored the child
    hears so, nothing is claimed sent, the words stay in the slots, and the same yes
    stores them once the database is back."""
    child_id = linked_child()
    checkin_id = plan(configured, child_id, utcnow().date())
    asks = [
        (ValidateFeelingForm(), "feeling_share",
         {"feeling": "trots", "feeling_why": "ik mocht de hond uitlaten"}),
        (ValidateCheckinForm(), "checkin_share",
         {"checkin_id": checkin_id, "checkin_changed": "Ik zit nu op voetbal",
          "checkin_discuss": False}),
    ]
    dead = make_engine(settings, "postgresql://nobody@127.0.0.1:1/none")
    deps.configure(settings, make_session_factory(dead))
    try:
        for form, slot, slots in asks:
            result, said = await validate(form, slot, "ja", intent="affirm", **slots)
            assert said == ["utter_cannot_save"], form.name()
            assert result == {slot: None}, form.name()
    finally:
        deps.configure(settings, configured)
        dead.dispose()
    for form, slot, slots in asks:
        result, said = await validate(form, slot, "ja", intent="affirm", **slots)
        assert said == [] and result[slot] is True, form.name()
    with configured.begin() as session:
        messages = session.scalars(select(ChildMessage).order_by(ChildMessage.id)).all()
        assert [(m.kind, m.text) for m in messages] == [
            ("feeling", "ik mocht de hond uitlaten"), ("checkin", "Ik zit nu op voetbal")]
