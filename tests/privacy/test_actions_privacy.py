"""Actions: invite-code guessing limits (actions/link.py) and "vergeet mij"
(actions/forget.py), with trackers from the action tests' fixture and real databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions import deps
from actions.forget import ActionForgetMe, confirmed
from actions.link import ActionLinkChat
from bot import invites
from bot.domain import load_domain
from bot.privacy import link_limits
from bot.settings import Settings, load_settings
from bot.storage import migrate, repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import LinkAttempt, Wish, utcnow
from tests.actions.conftest import load_tracker, responses, slot_events
from tests.conftest import make_test_env
from tests.privacy.conftest import plant_child

DOMAIN = load_domain()


@pytest.fixture
def limited(tmp_path: Path):
    """Actions configured with small limits: 3 failures per chat, 5 overall."""
    var = tmp_path / "var"
    settings = load_settings(make_test_env(
        var, DATABASE_URL=f"sqlite:///{var / 'app.db'}",
        TRACKER_DB_URL=f"sqlite:///{var / 'tracker.db'}",
        MIJNSTEM_LINK_FAILURES_PER_CHAT="3", MIJNSTEM_LINK_FAILURES_OVERALL="5",
        MIJNSTEM_LINK_WINDOW_MINUTES="15",
    ))
    engine = make_engine(settings)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    deps.configure(settings, sessions)
    yield settings, sessions
    engine.dispose()


def _new_invite(settings: Settings, sessions) -> str:
    code = invites.new_code()
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name=None, age=9, age_group="6-9",
                                  caseworker=None)
        repo.create_invite(session=session, child=child, ttl=timedelta(days=14),
                           code_hash=invites.code_hash(settings.pseudonym_secret, code))
    return code


async def _try_code(sender: str, code: str) -> tuple[list[str], dict[str, Any]]:
    tracker = load_tracker(intent="link_chat", text=f"/start {code}", active_loop={},
                           sender_id=sender,
                           entities=[{"entity": "invite_code", "value": invites.normalise(code)}],
                           slots={"linked": False, "age_group": None, "requested_slot": None})
    dispatcher = CollectingDispatcher()
    events = await ActionLinkChat().run(dispatcher, tracker, DOMAIN)
    return responses(dispatcher), slot_events(events)


async def test_a_chat_that_guesses_wrong_is_stopped_even_with_the_right_code(limited):
    settings, sessions = limited
    good = _new_invite(settings, sessions)
    for _ in range(3):
        assert (await _try_code("tg-guesser", "ZZZZ-9999"))[0] == ["utter_invite_unknown"]
    said, slots = await _try_code("tg-guesser", good)
    assert said == ["utter_invite_too_many_tries"] and slots["link_result"] == "refused"
    # Another chat is not affected and links with the right code.
    said, slots = await _try_code("tg-child", good)
    assert slots["link_result"] == "linked"
    # After the window the guesser may try again.
    with sessions.begin() as session:
        for attempt in session.scalars(select(LinkAttempt)):
            attempt.created_at = utcnow() - timedelta(minutes=16)
    assert (await _try_code("tg-guesser", "ZZZZ-9999"))[0] == ["utter_invite_unknown"]


async def test_vergeet_mij_does_not_reset_the_guessing_limit(limited):
    from bot.privacy.erase import forget_chat

    settings, sessions = limited
    for _ in range(3):
        await _try_code("tg-guesser", "ZZZZ-9999")
    forget_chat(settings, sessions, "tg-guesser")
    assert (await _try_code("tg-guesser", "ZZZZ-9999"))[0] == ["utter_invite_too_many_tries"]


async def test_guessing_spread_over_many_chats_stops_everyone_for_a_while(limited):
    settings, sessions = limited
    good = _new_invite(settings, sessions)
    for n in range(5):
        await _try_code(f"tg-bot{n}", "ZZZZ-9999")
    said, slots = await _try_code("tg-real-child", good)
    assert said == ["utter_invite_busy"] and slots["link_result"] == "refused"
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(LinkAttempt)) == 5


async def test_counters_survive_a_restart_of_the_action_server(limited):
    settings, sessions = limited
    for _ in range(3):
        await _try_code("tg-guesser", "ZZZZ-9999")
    # A new process: new engine and session factory, same database.
    engine = make_engine(settings)
    deps.configure(settings, make_session_factory(engine))
    assert (await _try_code("tg-guesser", "ZZZZ-9999"))[0] == ["utter_invite_too_many_tries"]
    engine.dispose()


def test_limits_come_from_settings(limited):
    settings, _ = limited
    limits = link_limits.LinkLimits.from_settings(settings)
    assert (limits.per_chat, limits.overall, limits.window) == (3, 5, timedelta(minutes=15))
    defaults = load_settings(make_test_env(settings.var_dir))
    assert (defaults.link_failures_per_chat, defaults.link_failures_overall) == (5, 100)


# --- vergeet mij -------------------------------------------------------------------------

def _after_question(answer_intent: str = "affirm", asked: str = "utter_ask_forget_me",
                    sender: str = "tg-kind1") -> Any:
    tracker = load_tracker(intent=answer_intent, text="ja", active_loop={}, sender_id=sender)
    tracker.events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "vergeet mij", "parse_data": {}},
        {"event": "action", "name": asked},
        {"event": "bot", "text": "Weet je het zeker?"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "ja", "parse_data": {}},
    ]
    return tracker


def test_confirmed_only_right_after_the_question():
    assert confirmed(_after_question())
    assert not confirmed(_after_question(asked="utter_ask_wish"))
    tracker = _after_question()
    tracker.events = tracker.events[:4]  # the question was asked, no answer yet
    assert not confirmed(tracker)


async def test_forget_me_erases_after_the_yes(limited):
    settings, sessions = limited
    planted = plant_child(settings, sessions, "mijn geheim")
    dispatcher = CollectingDispatcher()
    events = await ActionForgetMe().run(dispatcher, _after_question(), DOMAIN)
    assert responses(dispatcher) == ["utter_forgotten"]
    assert events == [{"event": "reset_slots", "timestamp": None}]
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Wish)) == 0
    assert planted.child_id


async def test_forget_me_does_nothing_without_the_question(limited):
    settings, sessions = limited
    plant_child(settings, sessions, "mijn geheim")
    dispatcher = CollectingDispatcher()
    events = await ActionForgetMe().run(
        dispatcher, _after_question(asked="utter_ask_wish"), DOMAIN
    )
    assert responses(dispatcher) == ["utter_forget_kept"] and events == []
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Wish)) == 1


async def test_forget_me_says_so_when_the_database_is_down(limited, tmp_path):
    settings, sessions = limited
    plant_child(settings, sessions, "mijn geheim")
    broken = load_settings(make_test_env(
        settings.var_dir, DATABASE_URL=settings.database_url,
        TRACKER_DB_URL=f"sqlite:///{tmp_path / 'no-such-dir' / 'x' / 'db'}"))
    (tmp_path / "no-such-dir").write_text("a file where a folder should be")
    deps.configure(broken, sessions)
    dispatcher = CollectingDispatcher()
    assert await ActionForgetMe().run(dispatcher, _after_question(), DOMAIN) == []
    assert responses(dispatcher) == ["utter_forget_failed"]
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Wish)) == 1
