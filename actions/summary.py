"""The summary for the child ("Dit heb ik opgeschreven") and the choice to share it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import deps
from actions.common import DB_ERRORS, find_conversation, latest_intent, was_asked, with_step
from bot.storage import repo


def summary_lines(tracker: Tracker) -> list[str]:
    conversation = find_conversation(tracker)
    if conversation is None:
        return []
    with deps.get().sessions.begin() as session:
        wishes = repo.list_wishes(session=session, child_id=conversation.child_id)
        return [f"• {wish.text}" for wish in wishes]


class ActionShowSummary(Action):
    def name(self) -> str:
        return "action_show_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            lines = summary_lines(tracker)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return [SlotSet("share_summary", False)]
        if not lines:
            dispatcher.utter_message(response="utter_summary_empty")
            # Nothing to share: the share form completes at once.
            return [SlotSet("share_summary", False)]
        dispatcher.utter_message(response="utter_summary", items="\n".join(lines))
        return [SlotSet("share_summary", None)]


class ValidateShareForm(FormValidationAction):
    def name(self) -> str:
        return "validate_share_form"

    async def validate_share_summary(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        if isinstance(slot_value, bool):
            return {"share_summary": slot_value}
        if not was_asked(tracker, "share_summary"):
            return {"share_summary": None}
        intent = latest_intent(tracker)
        if intent == "affirm":
            return {"share_summary": True}
        if intent in {"deny", "skip", "dont_know"}:
            # Not sure is not a yes: nothing is shared without the child's yes.
            return {"share_summary": False}
        dispatcher.utter_message(response="utter_yes_or_no")
        return {"share_summary": None}


class ActionShareSummary(Action):
    def name(self) -> str:
        return "action_share_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        done = [SlotSet("steps_done", with_step(tracker, "summary"))]
        if tracker.get_slot("share_summary") is not True:
            try:
                has_items = bool(summary_lines(tracker))
            except DB_ERRORS:
                has_items = True
            if has_items:
                dispatcher.utter_message(response="utter_summary_private")
            return done
        try:
            lines = summary_lines(tracker)
            conversation = find_conversation(tracker)
            if conversation is not None and lines:
                with deps.get().sessions.begin() as session:
                    child = repo.get_child(session=session, child_id=conversation.child_id)
                    repo.add_shared_summary(session=session, child=child, body="\n".join(lines))
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            # Ask again next time: the child's yes is not lost.
            return [SlotSet("share_summary", None)]
        dispatcher.utter_message(response="utter_summary_shared")
        return done

