"""The check-in before a meeting (issue 11): planned by a caseworker
(`python -m bot checkin plan`), started by the child's button on the Telegram
invitation or by action_continue at the next visit on or after the day. Asks what
changed since last time and what the child wants discussed; with the child's yes both
answers reach the caseworker as ChildMessages of kind "checkin" (the answer loop), marked
with the check-in in the portal. The check-in counts as done either way.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.base import Events, FormValidation, Turn, TurnAction
from actions.caseworker import deadlines
from actions.common import DB_ERRORS, ask_yes_no, channel_of
from actions.feeling import is_cancel
from actions.sharing import NOT_SENT, SENT, SENT_TEAM, UNLINKED, reader_slots, store_for_team
from bot.storage import loop
from bot.storage.models import Child, ConversationSession, utcnow

CHECKIN_SLOTS = ("checkin_changed", "checkin_discuss", "checkin_share")
PARTS = (("checkin_changed", "changed"), ("checkin_discuss", "discuss"))
NONE = "none"


def today_due(turn: Turn) -> int | None:
    """The id of this chat's child's due check-in, if any."""
    conversation = turn.conversation
    if conversation is None:
        return None
    with turn.db() as session:
        found = loop.due_checkin(session=session, child_id=conversation.child_id,
                                 today=utcnow().date())
        return found.id if found is not None else None


class ActionStartCheckin(TurnAction):
    def name(self) -> str:
        return "action_start_checkin"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events:
        try:
            checkin_id = today_due(turn)
            readers = reader_slots(turn) if checkin_id is not None else None
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            checkin_id, readers = None, None
        if checkin_id is None or readers is None:
            # Nothing planned (or already done): the form ends at once.
            return [*(SlotSet(slot, False) for slot in CHECKIN_SLOTS),
                    SlotSet("checkin_id", None), SlotSet("checkin_result", NONE)]
        dispatcher.utter_message(response="utter_checkin_intro")
        return [*readers, *(SlotSet(slot, None) for slot in CHECKIN_SLOTS),
                SlotSet("checkin_id", checkin_id), SlotSet("checkin_result", None)]


class ValidateCheckinForm(FormValidation):
    keeps_unasked = False

    def name(self) -> str:
        return "validate_checkin_form"

    def _answer(self, slot: str, slot_value: Any, tracker: Tracker) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if not text or is_cancel(tracker, text):
            return {slot: False}
        # Kept in the (encrypted) tracker only until the child decides who reads it.
        return {slot: text}

    def validate_checkin_changed(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        return self._answer("checkin_changed", slot_value, tracker)

    def validate_checkin_discuss(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        found = self._answer("checkin_discuss", slot_value, tracker)
        if not found["checkin_discuss"] and not tracker.get_slot("checkin_changed"):
            # Nothing to share: no need to ask who may read it.
            return {**found, "checkin_share": False, "checkin_result": NOT_SENT}
        return found

    def validate_checkin_share(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        answer = ask_yes_no(dispatcher, tracker)
        if answer == "":
            return {"checkin_share": None}
        cleared = {slot: False for slot, _ in PARTS}
        if answer != "yes":
            return {**cleared, "checkin_share": False, "checkin_result": NOT_SENT}
        checkin_id = tracker.get_slot("checkin_id")

        def store(session: Session, child: Child, conversation: ConversationSession) -> None:
            for slot, part in PARTS:
                words = tracker.get_slot(slot)
                if isinstance(words, str) and words.strip():
                    loop.add_child_message(
                        session=session, child=child, kind="checkin", text=words,
                        checkin_id=checkin_id if isinstance(checkin_id, int) else None,
                        part=part, session_id=conversation.id,
                        channel=channel_of(tracker.sender_id), deadlines=deadlines(),
                    )

        result = store_for_team(dispatcher, turn, store)
        if result is None:
            return {"checkin_share": None}
        if result == UNLINKED:
            return {**cleared, "checkin_share": False, "checkin_result": NOT_SENT}
        return {**cleared, "checkin_share": True, "checkin_result": result}


class ActionAfterCheckin(TurnAction):
    """The check-in is done (shared or not); say honestly what was sent."""

    def name(self) -> str:
        return "action_after_checkin"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events:
        result = tracker.get_slot("checkin_result")
        checkin_id = tracker.get_slot("checkin_id")
        if isinstance(checkin_id, int):
            try:
                with turn.db() as session:
                    loop.finish_checkin(session=session, checkin_id=checkin_id)
            except DB_ERRORS:
                dispatcher.utter_message(response="utter_cannot_save")
        if result == SENT and tracker.get_slot("has_caseworker"):
            dispatcher.utter_message(response="utter_checkin_sent",
                                     caseworker_name=tracker.get_slot("caseworker_name"))
        elif result in (SENT, SENT_TEAM):
            dispatcher.utter_message(response="utter_checkin_sent_team")
        elif result == NONE:
            dispatcher.utter_message(response="utter_checkin_none")
        else:
            dispatcher.utter_message(response="utter_checkin_not_sent")
        return [*(SlotSet(slot, None) for slot in CHECKIN_SLOTS),
                SlotSet("checkin_id", None), SlotSet("checkin_result", None)]
