"""The child's half of the answer loop (issue 8): writing to the caseworker at any time,
and reacting to an answer ("dankjewel", "daar ben ik het niet mee eens", own words).

The answers themselves reach the child through the REST channel (bot/nlu/followups.py),
which asks the action server for them (bot/loop/delivery_api.py). When no caseworker is
linked, the copy says the team reads it and the message lands in the team inbox.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import deps
from actions.base import Events, FormValidation, Turn, TurnAction
from actions.common import DB_ERRORS, channel_of, is_skip, latest_intent
from actions.sharing import SENT, SENT_TEAM, UNLINKED, store_for_team
from bot.storage import loop, repo
from bot.storage.models import Child, ConversationSession, utcnow

# Words that mean "send nothing after all" (besides the skip intents).
CANCEL_WORDS = {"laat maar", "niks", "niets", "toch niet", "nee laat maar", "annuleren"}
# A typed "dankjewel" this soon after an answer was delivered thanks for that answer.
THANKS_WINDOW = timedelta(hours=24)
SLOT = "message_to_caseworker"


def deadlines() -> loop.Deadlines:
    settings = deps.get().settings
    return loop.Deadlines(open_days=settings.followup_open_days,
                          answer_days=settings.followup_answer_days)


class ActionStartCaseworkerMessage(TurnAction):
    """Before caseworker_message_form: who will read it (named caseworker or team), and
    whether this is a message or a reaction in own words. An unlinked chat gets the
    slot pre-filled, so the form ends at once and nothing is promised."""

    def name(self) -> str:
        return "action_start_caseworker_message"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events:
        kind = "reaction" if latest_intent(tracker) == "react_own_words" else "message"
        try:
            conversation = turn.conversation
            name = None
            if conversation is not None:
                with turn.db() as session:
                    child = repo.get_child(session=session, child_id=conversation.child_id)
                    caseworker = child.caseworker
                    if caseworker is not None and caseworker.active:
                        name = caseworker.first_name
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return [SlotSet(SLOT, False), SlotSet("message_kind", kind)]
        if conversation is None:
            return [SlotSet(SLOT, False), SlotSet("message_kind", kind),
                    SlotSet("has_caseworker", False)]
        events = [SlotSet(SLOT, None), SlotSet("message_kind", kind),
                  SlotSet("has_caseworker", name is not None)]
        # Without a caseworker the slot keeps its fallback words (actions/names.py); the
        # copy then speaks of the team (has_caseworker).
        return events + ([SlotSet("caseworker_name", name)] if name else [])


class ValidateCaseworkerMessageForm(FormValidation):
    def name(self) -> str:
        return "validate_caseworker_message_form"

    def validate_message_to_caseworker(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if not text:
            return {SLOT: None}
        if is_skip(tracker, text) or text.lower().strip(" .!") in CANCEL_WORDS:
            return {SLOT: False}

        def store(session: Session, child: Child, conversation: ConversationSession) -> None:
            if tracker.get_slot("message_kind") == "reaction":
                reply = loop.last_delivered_reply(session=session, child_id=child.id)
                loop.add_reaction(
                    session=session, child=child, reaction="own_words",
                    reply_id=reply.id if reply else None, text=text,
                    session_id=conversation.id, channel=channel_of(tracker.sender_id),
                )
            else:
                loop.add_child_message(
                    session=session, child=child, text=text, session_id=conversation.id,
                    channel=channel_of(tracker.sender_id), deadlines=deadlines(),
                )

        result = store_for_team(dispatcher, turn, store)
        if result is None:
            return {SLOT: None}
        # The words are stored (encrypted); the slot keeps only that it was sent.
        return {SLOT: False if result == UNLINKED else result}


class ActionAfterCaseworkerMessage(TurnAction):
    """Say where the message went (named caseworker or the team), or that nothing was
    sent; action_continue then brings the child back to where they were."""

    def name(self) -> str:
        return "action_after_caseworker_message"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events:
        outcome = tracker.get_slot(SLOT)
        name = tracker.get_slot("caseworker_name")
        if outcome == SENT and name and tracker.get_slot("has_caseworker"):
            dispatcher.utter_message(response="utter_message_to_caseworker_sent",
                                     caseworker_name=name)
        elif outcome in (SENT, SENT_TEAM):
            dispatcher.utter_message(response="utter_message_to_caseworker_sent_team")
        elif tracker.get_slot("has_caseworker") is False and not tracker.get_slot("linked"):
            dispatcher.utter_message(response="utter_link_needed_for_message")
        else:
            dispatcher.utter_message(response="utter_message_to_caseworker_cancelled")
        return [SlotSet(SLOT, None), SlotSet("message_kind", None)]


class ActionStoreReaction(TurnAction):
    """The "Dankjewel" and "Daar ben ik het niet mee eens" buttons under an answer:
    stored as a reaction to the answer the child saw last."""

    def name(self) -> str:
        return "action_store_reaction"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events:
        reaction = "disagree" if latest_intent(tracker) == "react_disagree" else "thanks"
        signed_as = None
        try:
            conversation = turn.conversation
            if conversation is not None:
                with turn.db() as session:
                    reply = loop.last_delivered_reply(session=session,
                                                      child_id=conversation.child_id)
                    if reply is not None:
                        child = repo.get_child(session=session, child_id=conversation.child_id)
                        loop.add_reaction(
                            session=session, child=child, reaction=reaction,
                            reply_id=reply.id, session_id=conversation.id,
                            channel=channel_of(tracker.sender_id),
                        )
                        signed_as = reply.signed_as
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return []
        if signed_as is None:
            dispatcher.utter_message(response="utter_not_understood")
        elif reaction == "disagree":
            dispatcher.utter_message(response="utter_reaction_disagree", caseworker_name=signed_as)
        else:
            dispatcher.utter_message(response="utter_reaction_thanks", caseworker_name=signed_as)
        return []


class ActionThanks(TurnAction):
    """A typed "dankjewel": thanks for an answer delivered in the last day (stored as a
    reaction, once), otherwise simply "graag gedaan"."""

    def name(self) -> str:
        return "action_thanks"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events:
        signed_as = None
        try:
            conversation = turn.conversation
            if conversation is not None:
                with turn.db() as session:
                    reply = loop.last_delivered_reply(session=session,
                                                      child_id=conversation.child_id)
                    recent = (reply is not None and reply.delivered_at is not None
                              and utcnow() - reply.delivered_at < THANKS_WINDOW)
                    if reply is not None and recent and not loop.has_reaction(
                        session=session, reply_id=reply.id, reaction="thanks"
                    ):
                        child = repo.get_child(session=session, child_id=conversation.child_id)
                        loop.add_reaction(
                            session=session, reaction="thanks", child=child,
                            reply_id=reply.id, session_id=conversation.id,
                            channel=channel_of(tracker.sender_id),
                        )
                        signed_as = reply.signed_as
        except DB_ERRORS:
            # A thank-you is answered even when it cannot be stored (the turn reports
            # the failure, so this reply stands).
            signed_as = None
        if signed_as:
            dispatcher.utter_message(response="utter_reaction_thanks", caseworker_name=signed_as)
        else:
            dispatcher.utter_message(response="utter_you_are_welcome")
        return []
