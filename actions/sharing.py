"""The last step of everything a child may pass on to their caseworker (a feeling, a
check-in, a message): who would read it, and storing it once the child said yes.

The result names what became of it, for the action that tells the child honestly:
SENT (their caseworker reads it), SENT_TEAM (no caseworker: the team does), NOT_SENT
(the child said no), UNLINKED (the chat is not linked to a child: nothing can be sent).
"""

from __future__ import annotations

from collections.abc import Callable

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.base import Events, Turn
from actions.common import DB_ERRORS
from actions.names import first_name
from bot.storage import repo
from bot.storage.models import Child, ConversationSession

SENT, SENT_TEAM, NOT_SENT, UNLINKED = "sent", "sent_team", "not_sent", "unlinked"

Store = Callable[[Session, Child, ConversationSession], object]


def reader_slots(turn: Turn) -> Events | None:
    """Who would read it: `has_caseworker` and the caseworker's first name (the
    fallback words of actions/names.py stay when there is none). None when the chat is
    not linked."""
    conversation = turn.conversation
    if conversation is None:
        return None
    with turn.db() as session:
        child = repo.get_child(session=session, child_id=conversation.child_id)
        caseworker = child.caseworker
        name = first_name(caseworker.name) if caseworker is not None and caseworker.active \
            else None
    events = [SlotSet("has_caseworker", name is not None)]
    return events + ([SlotSet("caseworker_name", name)] if name else [])


def store_for_team(dispatcher: CollectingDispatcher, turn: Turn, store: Store) -> str | None:
    """Run `store(session, child, conversation)` for this chat's child: SENT or
    SENT_TEAM once stored, UNLINKED when the chat is not linked, None when the database
    failed (the child has heard `utter_cannot_save`; the form asks again)."""
    try:
        conversation = turn.conversation
        if conversation is None:
            return UNLINKED
        with turn.db() as session:
            child = repo.get_child(session=session, child_id=conversation.child_id)
            store(session, child, conversation)
            has_caseworker = child.caseworker is not None
    except DB_ERRORS:
        dispatcher.utter_message(response="utter_cannot_save")
        return None
    return SENT if has_caseworker else SENT_TEAM
