"""Linking, the wishes form, the summary and sharing: events and response names."""

from __future__ import annotations

from datetime import timedelta

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions import deps
from actions.flow import ActionContinue
from actions.link import ActionLinkChat
from actions.summary import ActionShareSummary, ActionShowSummary, ValidateShareForm
from actions.wishes import ValidateWishForm
from bot import invites
from bot.settings import Settings
from bot.storage import repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import SharedSummary, Wish
from tests.actions.conftest import load_tracker, responses, slot_events, validate_slot


async def _run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


def _count(sessions, model) -> int:
    with sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(model))


async def test_link_with_a_valid_code(configured, settings: Settings, domain):
    code = invites.new_code()
    with configured.begin() as session:
        child = repo.create_child(
            session=session, display_name=None, age=8, age_group="6-9", caseworker=None
        )
        repo.create_invite(
            session=session,
            child=child,
            ttl=timedelta(days=14),
            code_hash=invites.code_hash(settings.pseudonym_secret, code),
        )
    tracker = load_tracker(
        intent="link_chat",
        text=f"/start {code}",
        active_loop={},
        entities=[{"entity": "invite_code", "value": invites.normalise(code)}],
        slots={"linked": False, "age_group": None, "requested_slot": None},
    )
    dispatcher, events = await _run(ActionLinkChat(), tracker, domain)
    assert responses(dispatcher) == []
    slots = slot_events(events)
    assert slots["linked"] is True and slots["age_group"] == "6-9"
    assert slots["link_result"] == "linked"


async def test_link_with_wrong_or_missing_code(configured, domain):
    wrong = load_tracker(
        intent="link_chat",
        text="/start ZZZZ-9999",
        active_loop={},
        entities=[{"entity": "invite_code", "value": "ZZZZ9999"}],
    )
    dispatcher, events = await _run(ActionLinkChat(), wrong, domain)
    assert responses(dispatcher) == ["utter_invite_unknown"]
    assert "linked" not in slot_events(events)
    missing = load_tracker(intent="link_chat", text="/start", active_loop={}, entities=[])
    dispatcher, _ = await _run(ActionLinkChat(), missing, domain)
    assert responses(dispatcher) == ["utter_invite_missing"]


async def test_continue_asks_for_a_code_before_linking(configured, domain):
    tracker = load_tracker(
        intent="greet", text="hoi", active_loop={}, slots={"linked": False, "requested_slot": None}
    )
    dispatcher, events = await _run(ActionContinue(), tracker, domain)
    assert responses(dispatcher) == ["utter_ask_code"]
    assert slot_events(events)["next_step"] == "need_code"


async def test_continue_after_linking_welcomes_and_asks_age_when_unknown(
    configured, linked_child, domain
):
    linked_child(age=None)
    tracker = load_tracker(
        intent="link_chat",
        active_loop={},
        latest_action_name="action_link_chat",
        slots={"link_result": "linked", "age_group": None},
    )
    dispatcher, events = await _run(ActionContinue(), tracker, domain)
    assert responses(dispatcher) == ["utter_welcome", "utter_welcome_rules"]
    assert slot_events(events)["next_step"] == "ask_age"


async def test_continue_resumes_wishes_on_greeting(configured, linked_child, domain):
    linked_child(age=12)
    tracker = load_tracker(
        intent="greet",
        text="hoi",
        active_loop={},
        slots={"wish": "een hond", "requested_slot": None, "step_started": "wishes"},
    )
    dispatcher, events = await _run(ActionContinue(), tracker, domain)
    assert responses(dispatcher) == ["utter_greet_back", "utter_resume_wishes"]
    assert slot_events(events)["next_step"] == "wishes"


async def test_each_wish_is_its_own_row(configured, linked_child, domain):
    child_id = linked_child()
    form = ValidateWishForm()
    dispatcher = CollectingDispatcher()
    result = await validate_slot(
        form, "wish", "ik wil bij mijn broer wonen", dispatcher, load_tracker(), domain
    )
    assert result["wish"] == "ik wil bij mijn broer wonen"
    assert responses(dispatcher) == ["utter_wish_saved"]
    # A second wish typed straight at "nog een wens?" is stored too.
    dispatcher = CollectingDispatcher()
    tracker = load_tracker(text="op voetbal blijven", slots={"requested_slot": "more_wishes"})
    result = await validate_slot(
        form, "more_wishes", "op voetbal blijven", dispatcher, tracker, domain
    )
    assert result["more_wishes"] is None
    with configured.begin() as session:
        texts = [w.text for w in repo.list_wishes(session=session, child_id=child_id)]
    assert texts == ["ik wil bij mijn broer wonen", "op voetbal blijven"]


async def test_skip_and_yes_are_not_stored_as_wishes(configured, linked_child, domain):
    linked_child()
    form = ValidateWishForm()
    dispatcher = CollectingDispatcher()
    skipped = await validate_slot(
        form, "wish", "weet ik niet", dispatcher, load_tracker(intent="dont_know"), domain
    )
    assert skipped["more_wishes"] is False and "wishes" in skipped["steps_done"]
    assert responses(dispatcher) == ["utter_wish_skipped"]
    dispatcher = CollectingDispatcher()
    yes = await validate_slot(form, "wish", "ja", dispatcher, load_tracker(intent="affirm"), domain)
    assert yes == {"wish": None} and responses(dispatcher) == ["utter_tell_me"]
    assert _count(configured, Wish) == 0


async def test_value_from_the_activating_message_is_ignored(configured, linked_child, domain):
    linked_child()
    dispatcher = CollectingDispatcher()
    tracker = load_tracker(text="hoi", intent="greet", slots={"requested_slot": None})
    assert await validate_slot(ValidateWishForm(), "wish", "hoi", dispatcher, tracker, domain) == {
        "wish": None
    }
    assert _count(configured, Wish) == 0


async def test_a_dead_database_loses_no_wish(configured, linked_child, settings, domain, tmp_path):
    linked_child()
    dead = make_engine(settings, "postgresql://nobody@127.0.0.1:1/none")
    deps.configure(settings, make_session_factory(dead))
    dispatcher = CollectingDispatcher()
    result = await validate_slot(
        ValidateWishForm(), "wish", "een eigen kamer", dispatcher, load_tracker(), domain
    )
    assert responses(dispatcher) == ["utter_cannot_save"]
    assert result["unsaved_wishes"] == ["een eigen kamer"]
    # The database is back: the kept wish is stored together with the next one.
    deps.configure(settings, configured)
    dispatcher = CollectingDispatcher()
    tracker = load_tracker(slots={"unsaved_wishes": ["een eigen kamer"]})
    result = await validate_slot(
        ValidateWishForm(), "wish", "een hond", dispatcher, tracker, domain
    )
    assert result["unsaved_wishes"] is None
    with configured.begin() as session:
        assert sorted(w.text for w in session.scalars(select(Wish))) == [
            "een eigen kamer",
            "een hond",
        ]


async def test_summary_shared_only_on_yes(configured, linked_child, domain):
    """The per-item choices are tested in test_interview_actions.py; here: no and yes."""
    child_id = linked_child()
    with configured.begin() as session:
        repo.add_wish(session=session, child_id=child_id, session_id=None, text="een hond")
    dispatcher, events = await _run(ActionShowSummary(), load_tracker(active_loop={}), domain)
    assert responses(dispatcher) == ["utter_summary"]
    assert "een hond" in dispatcher.messages[0]["items"]
    refs = slot_events(events)["share_refs"]

    share = ValidateShareForm()
    asked = {"requested_slot": "share_mode", "share_refs": refs}
    unclear = CollectingDispatcher()
    maybe = await validate_slot(
        share,
        "share_mode",
        "pizza",
        unclear,
        load_tracker(intent="inform", text="pizza", slots=asked),
        domain,
    )
    assert maybe == {"share_mode": None} and responses(unclear) == ["utter_choose_please"]
    no = await validate_slot(
        share,
        "share_mode",
        "nee",
        CollectingDispatcher(),
        load_tracker(intent="deny", text="nee", slots=asked),
        domain,
    )
    assert no == {"share_mode": "none", "share_item": False}
    dispatcher, _ = await _run(
        ActionShareSummary(), load_tracker(slots={"share_refs": refs}), domain
    )
    assert responses(dispatcher) == ["utter_summary_private"]
    assert _count(configured, SharedSummary) == 0

    # Asked again (e.g. a returning child changed their mind about this item).
    yes = await validate_slot(
        share,
        "share_mode",
        "ja",
        CollectingDispatcher(),
        load_tracker(intent="affirm", text="ja", slots=asked),
        domain,
    )
    assert yes == {"share_mode": "all", "share_item": True}
    dispatcher, events = await _run(
        ActionShareSummary(), load_tracker(slots={"share_refs": refs}), domain
    )
    assert responses(dispatcher) == ["utter_summary_shared"]
    assert "summary" in slot_events(events)["steps_done"]
    with configured.begin() as session:
        (summary,) = session.scalars(select(SharedSummary)).all()
        assert summary.body == "• Wens (overig): een hond"
        assert summary.caseworker_id is not None


def test_the_action_server_registers_every_action_and_no_base_class(domain):
    """rasa-sdk registers every concrete Action subclass it finds; the shared base
    classes (actions/base.py) are abstract, so only the domain's actions are served."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {a for a in domain["actions"] if a.startswith(("action_", "validate_"))}
    assert set(executor.actions) == custom
