"""`action_continue`: decides what comes next, so a child can stop at any point and
come back days later to exactly where they were."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import DB_ERRORS, find_conversation, latest_intent, steps_done

# The interview, in order. Each step is a form or action picked by a rule on next_step.
STEPS = ("wishes", "summary")


def next_step(*, linked: bool, age_known: bool, done: list[str]) -> str:
    if not linked:
        return "need_code"
    if not age_known:
        return "ask_age"
    for step in STEPS:
        if step not in done:
            return step
    return "done"


class ActionContinue(Action):
    def name(self) -> str:
        return "action_continue"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            conversation = find_conversation(tracker)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_link_unavailable")
            return [SlotSet("next_step", "need_code")]

        just_linked = tracker.get_slot("link_result") == "linked" and _after_link(tracker)
        if conversation is None:
            if not _after_link(tracker):
                dispatcher.utter_message(response="utter_ask_code")
            return [SlotSet("linked", False), SlotSet("next_step", "need_code")]

        age_group = conversation.child.age_group
        done = steps_done(tracker)
        step = next_step(linked=True, age_known=age_group is not None, done=done)
        intent = latest_intent(tracker)

        if just_linked:
            dispatcher.utter_message(response="utter_welcome")
            dispatcher.utter_message(response="utter_welcome_rules")
        elif _after_link(tracker):
            dispatcher.utter_message(response="utter_already_linked")
        elif intent == "greet":
            dispatcher.utter_message(response="utter_greet_back")
            if step == "wishes" and (done or tracker.get_slot("wish")):
                dispatcher.utter_message(response="utter_resume")

        if step == "wishes" and (just_linked or tracker.latest_action_name == "age_form"):
            dispatcher.utter_message(response="utter_wishes_intro")
        if step == "done":
            dispatcher.utter_message(response="utter_all_done")

        return [
            SlotSet("linked", True),
            SlotSet("age_group", age_group),
            SlotSet("link_result", None),
            SlotSet("next_step", step),
        ]


def _after_link(tracker: Tracker) -> bool:
    return tracker.latest_action_name == "action_link_chat"
