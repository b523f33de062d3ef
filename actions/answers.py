"""The open questions: own say, continuity (what should stay the same, what changed),
being heard (what the caseworker should know) and, for a returning child, what has
changed since last time. Each answer is its own row; a short no, skip or don't-know
answer skips the question."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormValidation, Turn
from actions.common import DB_ERRORS, is_short, is_skip, latest_intent, steps_done
from actions.summary import topic_lines
from bot.storage import interview


def free_answer(
    slot: str,
    topic: str,
    slot_value: Any,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    turn: Turn,
) -> dict[str, Any]:
    text = str(slot_value or "").strip()
    if not text:
        return {slot: None}
    if is_skip(tracker, text):
        dispatcher.utter_message(response="utter_skipped")
        return {slot: False}
    if latest_intent(tracker) == "affirm" and is_short(text):
        dispatcher.utter_message(response="utter_tell_more")
        return {slot: None}
    try:
        conversation = turn.conversation
        if conversation is not None:
            with turn.db() as session:
                interview.add_answer(session=session, child_id=conversation.child_id,
                                     session_id=conversation.id, topic=topic, text=text)
    except DB_ERRORS:
        dispatcher.utter_message(response="utter_cannot_save")
        return {slot: None}
    dispatcher.utter_message(response="utter_noted")
    return {slot: text}


class ValidateSayForm(FormValidation):
    def name(self) -> str:
        return "validate_say_form"

    def validate_own_say(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        return free_answer("own_say", "own_say", slot_value, dispatcher, tracker, turn)


class ValidateContinuityForm(FormValidation):
    def name(self) -> str:
        return "validate_continuity_form"

    def validate_keep_same(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        return free_answer("keep_same", "keep_same", slot_value, dispatcher, tracker, turn)

    def validate_changed_lately(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        return free_answer("changed_lately", "changed", slot_value, dispatcher, tracker, turn)


class ValidateHeardForm(FormValidation):
    def name(self) -> str:
        return "validate_heard_form"

    def validate_caseworker_message(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        return free_answer("caseworker_message", "message", slot_value, dispatcher, tracker, turn)


class ValidateUpdateForm(FormValidation):
    def name(self) -> str:
        return "validate_update_form"

    def validate_what_changed(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        step = tracker.get_slot("update_topic")
        topic = f"update_{step}" if f"update_{step}" in interview.UPDATE_TOPICS else "update"
        result = free_answer("what_changed", topic, slot_value, dispatcher, tracker, turn)
        if isinstance(result.get("what_changed"), str):
            # Something new to share: the summary comes again.
            result["steps_done"] = [s for s in steps_done(tracker) if s != "summary"]
        if result.get("what_changed") is None:
            return result
        # This topic is answered (or skipped): the next one the child told about.
        queue = list(tracker.get_slot("update_queue") or [])[1:]
        if queue:
            try:
                lines = topic_lines(turn, domain, queue[0])
            except DB_ERRORS:
                return result
            return {**result, "what_changed": None, "update_queue": queue,
                    "update_topic": queue[0], "update_lines": lines}
        return {**result, "update_queue": [], "update_topic": None}
