"""The wishes form: one or more wishes, each stored as its own row with its topic
(bot/topics.py; the child is asked with buttons when the words do not tell)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormValidation, Turn
from actions.common import DB_ERRORS, choices, chosen, latest_intent, with_step
from bot import topics
from bot.privacy.text_input import was_clipped
from bot.storage import interview, repo

SKIP_INTENTS = {"skip", "dont_know", "deny"}
DONE_INTENTS = {"deny", "dont_know", "skip", "goodbye", "thanks"}
# A skip is a short answer ("nee", "weet ik niet"); a long one is a real wish.
MAX_SKIP_WORDS = 4
LONG_MESSAGE = 2000


def _is_short(text: str) -> bool:
    return len(text.split()) <= MAX_SKIP_WORDS


def store_wishes(turn: Turn, texts: list[str]) -> int | None:
    """Store wishes for this chat's child, each with its topic when the words tell it.
    Returns the id of the last one; raises on a database failure."""
    conversation = turn.conversation
    if conversation is None:
        return None
    last = None
    with turn.db() as session:
        for text in texts:
            last = repo.add_wish(
                session=session,
                child_id=conversation.child_id,
                session_id=conversation.id,
                text=text,
                topic=topics.wish_topic(text) or topics.GENERAL,
            ).id
    return last


class ValidateWishForm(FormValidation):
    def name(self) -> str:
        return "validate_wish_form"

    def _save(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn
    ) -> dict[str, Any]:
        """Store the wish (and any left unsaved before). On a database failure the
        wish is kept in the tracker and stored with the next one."""
        pending = list(tracker.get_slot("unsaved_wishes") or [])
        topic = topics.wish_topic(text)
        try:
            wish_id = store_wishes(turn, [*pending, text])
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return {"unsaved_wishes": [*pending, text], "wish_topic": topic or topics.GENERAL}
        if len(text) > LONG_MESSAGE and not was_clipped(tracker.events):
            dispatcher.utter_message(response="utter_wish_too_long")
        else:
            dispatcher.utter_message(response="utter_wish_saved")
        # An unknown topic is asked next (wish_topic stays empty).
        return {"unsaved_wishes": None, "last_wish_id": wish_id, "wish_topic": topic}

    def validate_wish(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if not text:
            return {"wish": None}
        intent = latest_intent(tracker)
        if intent == "affirm" and _is_short(text):
            dispatcher.utter_message(response="utter_tell_me")
            return {"wish": None}
        if intent in SKIP_INTENTS and _is_short(text):
            dispatcher.utter_message(response="utter_wish_skipped")
            return {"wish": text, "wish_topic": False, "more_wishes": False,
                    "steps_done": with_step(tracker, "wishes")}
        return {"wish": text, **self._save(text, dispatcher, tracker, turn)}

    def validate_more_wishes(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        intent = latest_intent(tracker)
        if intent == "affirm" and _is_short(text):
            return {"more_wishes": None, "wish": None}
        if intent in DONE_INTENTS and _is_short(text):
            return {"more_wishes": False, "steps_done": with_step(tracker, "wishes")}
        if not text:
            return {"more_wishes": None}
        # Anything else is taken as the next wish, typed straight away.
        return {"more_wishes": None, **self._save(text, dispatcher, tracker, turn)}

    def validate_wish_topic(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        topic = chosen(tracker, choices("wish_topic"))
        if topic is None:
            if latest_intent(tracker) in SKIP_INTENTS:
                return {"wish_topic": topics.GENERAL}
            dispatcher.utter_message(response="utter_choose_please")
            return {"wish_topic": None}
        wish_id = tracker.get_slot("last_wish_id")
        try:
            conversation = turn.conversation
            if conversation is not None and wish_id is not None:
                with turn.db() as session:
                    interview.set_wish_topic(session=session, child_id=conversation.child_id,
                                             wish_id=int(wish_id), topic=topic)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return {"wish_topic": None}
        return {"wish_topic": topic}
