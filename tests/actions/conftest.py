"""Action tests: trackers from small JSON fixtures, the real the domain, a real SQLite DB."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Engine

from actions import deps
from bot import invites
from bot.age import age_group
from bot.domain import load_domain
from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import repo
from bot.storage.db import make_session_factory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return load_domain()


@pytest.fixture
def configured(settings: Settings, sqlite_engine: Engine):
    sessions = make_session_factory(sqlite_engine)
    deps.configure(settings, sessions)
    return sessions


def load_tracker(name: str = "tracker_in_wish_form.json", **changes: Any) -> Tracker:
    data = json.loads((FIXTURES / name).read_text())
    slots = {**data["slots"], **changes.pop("slots", {})}
    latest = copy.deepcopy(data["latest_message"])
    if "text" in changes:
        latest["text"] = changes.pop("text")
    if "intent" in changes:
        latest["intent"] = {"name": changes.pop("intent"), "confidence": 0.9}
    if "entities" in changes:
        latest["entities"] = changes.pop("entities")
    data.update(changes)
    return Tracker(
        sender_id=data["sender_id"], slots=slots, latest_message=latest, events=data["events"],
        paused=data["paused"], followup_action=data["followup_action"],
        active_loop=data["active_loop"], latest_action_name=data["latest_action_name"],
    )


async def validate_slot(
    form: Any, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
    domain: dict[str, Any],
) -> dict[str, Any]:
    """Validate `value` for `slot` as Rasa asks for it: the form's validation action runs
    with the extracted value as the last event. Returns the slots it sets."""
    asked = tracker.copy()
    asked.events.append(SlotSet(slot, value))
    asked.slots[slot] = value
    return slot_events(await form.run(dispatcher, asked, domain))


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def new_invite(sessions: Any, settings: Settings, age: int) -> str:
    """A new child of this age (no caseworker) and the code of its invite."""
    code = invites.new_code()
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name=None, age=age,
                                  age_group=age_group(age), caseworker=None)
        repo.create_invite(session=session, child=child, ttl=timedelta(days=14),
                           code_hash=invites.code_hash(settings.pseudonym_secret, code))
    return code


@pytest.fixture
def linked_child(configured, settings: Settings) -> Callable[..., int]:
    """Create a child (with caseworker) and link the fixture's chat to it."""

    def make(sender: str = "rest-unit-1", age: int | None = 11) -> int:
        code = invites.new_code()
        with configured.begin() as session:
            caseworker = repo.add_caseworker(
                session=session, email=f"cw-{code}@example.org", name="Sanne"
            )
            child = repo.create_child(
                session=session, display_name="Noor", age=age,
                age_group=None if age is None else ("10-13" if age >= 10 else "6-9"),
                caseworker=caseworker,
            )
            repo.create_invite(session=session, child=child,
                               code_hash=invites.code_hash(settings.pseudonym_secret, code),
                               ttl=timedelta(days=14))
            repo.redeem_invite(session=session,
                               code_hash=invites.code_hash(settings.pseudonym_secret, code),
                               sender_hash=sender_hash(settings.pseudonym_secret, sender),
                               channel="rest")
            return child.id

    return make
