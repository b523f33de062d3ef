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
from tests.actions.conftest import load_tracker, new_invite, responses, slot_events
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
    return new_invite(sessions, settings, age=16)


async def _try_code(sender: str, code: str,
                    subject: str | None = None) -> tuple[list[str], dict[str, Any]]:
    tracker = load_tracker(intent="link_chat", text=f"/start {code}", active_loop={},
                           sender_id=sender,
                           entities=[{"entity": "invite_code", "value": invites.normalise(code)}],
                           slots={"linked": False, "age_group": None, "requested_slot": None})
    if subject is not None:
        tracker.latest_message["metadata"] = {link_limits.METADATA_KEY: subject}
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


async def test_guessing_spread_over_many_chats_cannot_lock_children_out(limited):
    settings, sessions = limited
    good = _new_invite(settings, sessions)
    for n in range(5):
        await _try_code(f"tg-bot{n}", "ZZZZ-9999")
    # The guessing chats are refused now, even with a right code...
    said, slots = await _try_code("tg-bot0", _new_invite(settings, sessions))
    assert said == ["utter_invite_busy"] and slots["link_result"] == "refused"
    # ...but a child typing their code right the first time gets in.
    said, slots = await _try_code("tg-real-child", good)
    assert slots["link_result"] == "linked"
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(LinkAttempt)) == 5


async def test_a_chat_that_keeps_guessing_waits_twice_as_long_each_time(limited):
    settings, sessions = limited
    for _ in range(3):
        await _try_code("tg-stubborn", "ZZZZ-9999")

    def age_attempts(minutes: int) -> None:
        with sessions.begin() as session:
            for attempt in session.scalars(select(LinkAttempt)):
                attempt.created_at = attempt.created_at - timedelta(minutes=minutes)

    # 3 to 5 failures: one more try 15 minutes after the last failure.
    for _ in range(3):
        assert (await _try_code("tg-stubborn", "ZZZZ-9999"))[0] == [
            "utter_invite_too_many_tries"]
        age_attempts(16)
        assert (await _try_code("tg-stubborn", "ZZZZ-9999"))[0] == ["utter_invite_unknown"]
    # 6 failures: 30 minutes.
    age_attempts(16)
    assert (await _try_code("tg-stubborn", "ZZZZ-9999"))[0] == ["utter_invite_too_many_tries"]
    age_attempts(15)
    assert (await _try_code("tg-stubborn", "ZZZZ-9999"))[0] == ["utter_invite_unknown"]


async def test_failures_count_per_telegram_user_across_sessions(limited):
    """A new session of the same Telegram chat (another sender id) does not start the
    count afresh: the bridge passes the user's counting key along."""
    settings, sessions = limited
    subject = link_limits.subject_for_telegram_user(settings.pseudonym_secret, 4242)
    for n in range(3):
        said, _ = await _try_code(f"tg-session{n}", "ZZZZ-9999", subject=subject)
        assert said == ["utter_invite_unknown"]
    said, _ = await _try_code("tg-session9", _new_invite(settings, sessions), subject=subject)
    assert said == ["utter_invite_too_many_tries"]
    # The same by IP address, for the web app.
    address = link_limits.subject_for_ip(settings.pseudonym_secret, "203.0.113.7")
    with sessions.begin() as session:
        for _ in range(3):
            link_limits.record_failure(session=session, sender_hash="web-x", subjects=[address])
        assert link_limits.refusal(
            session=session, sender_hash="web-other", subjects=[address],
            limits=link_limits.LinkLimits.from_settings(settings)) is link_limits.Refusal.CHAT


async def test_a_linked_chat_is_never_moved_by_another_childs_code(limited):
    settings, sessions = limited
    first, second = _new_invite(settings, sessions), _new_invite(settings, sessions)
    assert (await _try_code("rest-shared", first))[1]["link_result"] == "linked"
    said, slots = await _try_code("rest-shared", second)
    assert said == ["utter_invite_other_child"] and slots["link_result"] == "other_child"
    # Not counted as guessing, and the second code still works elsewhere.
    assert (await _try_code("rest-other", second))[1]["link_result"] == "linked"


async def test_telegram_from_sixteen_only(limited):
    settings, sessions = limited
    code = invites.new_code()
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name=None, age=13,
                                  age_group="10-13", caseworker=None)
        repo.create_invite(session=session, child=child, ttl=timedelta(days=14),
                           code_hash=invites.code_hash(settings.pseudonym_secret, code))
    said, slots = await _try_code("tg-young", code)
    assert said == ["utter_link_telegram_too_young"] and slots["link_result"] == "too_young"
    # The web chat takes the same code.
    assert (await _try_code("web-young", code))[1]["link_result"] == "linked"


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
