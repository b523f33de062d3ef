"""Small helpers shared by the actions."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.exc import SQLAlchemyError

from actions import deps
from bot.pseudonym import sender_hash
from bot.storage import repo
from bot.storage.models import ConversationSession

# Errors that mean "the database is unavailable right now": the child gets a kind
# message and nothing they said is dropped (it stays in the tracker and is retried).
DB_ERRORS = (SQLAlchemyError, OSError)


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def channel_of(sender_id: str) -> str:
    """Our own channels prefix their pseudonymous sender ids ("tg-...", "web-...")."""
    prefix = sender_id.split("-", 1)[0]
    return prefix if prefix in {"tg", "web"} else "rest"


def hashed_sender(tracker: Tracker) -> str:
    return sender_hash(deps.get().settings.pseudonym_secret, tracker.sender_id)


def find_conversation(tracker: Tracker) -> ConversationSession | None:
    """The linked conversation of this chat, detached from its session (read-only)."""
    with deps.get().sessions.begin() as session:
        conversation = repo.find_conversation(session=session, sender_hash=hashed_sender(tracker))
        if conversation is not None:
            session.refresh(conversation, ["child"])
        return conversation


def steps_done(tracker: Tracker) -> list[str]:
    return list(tracker.get_slot("steps_done") or [])


def with_step(tracker: Tracker, step: str) -> list[str]:
    done = steps_done(tracker)
    return done if step in done else [*done, step]


def was_asked(tracker: Tracker, slot: str) -> bool:
    """True when the form asked for this slot. A form also extracts from the message
    that activated it ("nee", "hoi"); such values were not answers to its question."""
    return tracker.get_slot("requested_slot") == slot


def button_payload(value: Any) -> str:
    return str(value or "").strip()
