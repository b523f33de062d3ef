""""Hoe voel ik me?" at any moment (issue 11): the child picks an emoji, says why if they
want, and decides whether their caseworker may see it. Only with a yes is it stored:
a ChildMessage of kind "feeling" in the answer loop (bot/storage/loop.py), so it
appears in the portal, gets deadlines and can be answered like any message. A "why"
that signals danger never reaches this validator as an answer: the REST channel's
detector makes it `safety_alarm`/`safety_concern`, which leaves the form
(data/rules/form_interruptions.yml).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, FormValidation, Turn, TurnAction
from actions.caseworker import CANCEL_WORDS, deadlines
from actions.common import (
    DB_ERRORS,
    ask_yes_no,
    channel_of,
    choices,
    chosen,
    is_skip,
    latest_text,
)
from actions.sharing import NOT_SENT, SENT, SENT_TEAM, UNLINKED, reader_slots, store_for_team
from bot.storage import loop

FEELING_SLOTS = ("feeling", "feeling_why", "feeling_share")
# A typed feeling with one of these words is asked again with the buttons.
NEGATION = {"niet", "geen", "nooit"}
# feeling_result: what became of it (actions/sharing.py), or that the child stopped.
CANCELLED = "cancelled"


def is_cancel(tracker: Tracker, text: str) -> bool:
    return is_skip(tracker, text) or text.lower().strip(" .!") in CANCEL_WORDS


class ActionStartFeeling(TurnAction):
    def name(self) -> str:
        return "action_start_feeling"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events:
        try:
            readers = reader_slots(turn)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            readers = None
        if readers is None:
            # Nothing can be sent: the form ends at once and says why.
            return [*(SlotSet(slot, False) for slot in FEELING_SLOTS),
                    SlotSet("feeling_result", UNLINKED)]
        return [*readers, *(SlotSet(slot, None) for slot in FEELING_SLOTS),
                SlotSet("feeling_result", None)]


class ValidateFeelingForm(FormValidation):
    keeps_unasked = False

    def name(self) -> str:
        return "validate_feeling_form"

    def validate_feeling(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        text = latest_text(tracker).strip()
        picked = chosen(tracker, choices("feeling"))
        typed = next(tracker.get_latest_entity_values("choice"), None) is None
        if picked is not None and typed and NEGATION & set(text.lower().split()):
            # "niet blij", "helemaal niet goed": a typed word is not trusted; the
            # buttons ask again.
            picked = None
        if picked is None and is_cancel(tracker, text):
            return {"feeling": False, "feeling_why": False, "feeling_share": False,
                    "feeling_result": CANCELLED}
        if picked is None:
            dispatcher.utter_message(response="utter_feeling_pick_one")
            return {"feeling": None}
        return {"feeling": picked}

    def validate_feeling_why(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if not text or is_cancel(tracker, text):
            return {"feeling_why": False}
        # Kept in the (encrypted) tracker only until the child decides who sees it.
        return {"feeling_why": text}

    def validate_feeling_share(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        answer = ask_yes_no(dispatcher, tracker)
        if answer == "":
            return {"feeling_share": None}
        if answer != "yes":
            # Not stored: the caseworker never sees it, and it is dropped from the slots.
            return {"feeling_share": False, "feeling_why": False, "feeling_result": NOT_SENT}
        why = tracker.get_slot("feeling_why")
        result = store_for_team(dispatcher, turn, lambda session, child, conversation: (
            loop.add_child_message(
                session=session, child=child, kind="feeling",
                feeling=str(tracker.get_slot("feeling")),
                text=why if isinstance(why, str) else None,
                session_id=conversation.id, channel=channel_of(tracker.sender_id),
                deadlines=deadlines(),
            )))
        if result is None:
            return {"feeling_share": None}
        if result == UNLINKED:
            return {"feeling_share": False, "feeling_result": UNLINKED}
        # The words are stored encrypted; the slots keep only that it was sent.
        return {"feeling_share": True, "feeling_why": False, "feeling_result": result}


class ActionAfterFeeling(TurnAction):
    """Say honestly what became of it; action_continue then resumes where the child was."""

    def name(self) -> str:
        return "action_after_feeling"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events:
        result = tracker.get_slot("feeling_result")
        if result == SENT and tracker.get_slot("has_caseworker"):
            dispatcher.utter_message(response="utter_feeling_sent",
                                     caseworker_name=tracker.get_slot("caseworker_name"))
        elif result in (SENT, SENT_TEAM):
            dispatcher.utter_message(response="utter_feeling_sent_team")
        elif result == NOT_SENT:
            dispatcher.utter_message(response="utter_feeling_not_sent")
        elif result == UNLINKED:
            dispatcher.utter_message(response="utter_link_needed_for_feeling")
        else:
            dispatcher.utter_message(response="utter_feeling_cancelled")
        return [*(SlotSet(slot, None) for slot in FEELING_SLOTS), SlotSet("feeling_result", None)]
