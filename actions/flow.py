"""`action_continue`: decides what comes next, so a child can stop at any point and
come back days later to exactly where they were; `action_redo_topic` lets a child do a
topic again ("ik wil mijn wensen veranderen")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Turn, TurnAction
from actions.common import DB_ERRORS, clear_step, latest_intent, latest_text, steps_done
from actions.summary import current_lines
from bot import topics
from bot.storage import interview

# The interview, in order. Each step is a form (or the summary) picked by a rule on
# next_step (data/rules/core.yml).
STEPS = ("wishes", "people", "trusted", "say", "continuity", "heard", "summary")
# Steps a child can redo; the summary follows every redo.
TOPIC_STEPS = STEPS[:-1]
# A form that completes finishes its step.
FORM_STEPS = {
    "wish_form": "wishes", "people_form": "people", "trusted_form": "trusted",
    "say_form": "say", "continuity_form": "continuity", "heard_form": "heard",
}
INTROS = {
    "wishes": "utter_wishes_intro", "people": "utter_people_intro",
    "trusted": "utter_trusted_intro", "say": "utter_say_intro",
    "continuity": "utter_continuity_intro", "heard": "utter_heard_intro",
}
RESUMES = {
    "wishes": "utter_resume_wishes", "people": "utter_resume_people",
    "trusted": "utter_resume_trusted", "say": "utter_resume_say",
    "continuity": "utter_resume_continuity", "heard": "utter_resume_heard",
    "summary": "utter_resume_summary",
}


def next_step(*, linked: bool, age_known: bool, done: list[str]) -> str:
    if not linked:
        return "need_code"
    if not age_known:
        return "ask_age"
    for step in STEPS:
        if step not in done:
            return step
    return "done"


class ActionContinue(TurnAction):
    def name(self) -> str:
        return "action_continue"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> list[dict[str, Any]]:
        try:
            conversation = turn.conversation
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_link_unavailable")
            return [SlotSet("next_step", "need_code")]

        just_linked = tracker.get_slot("link_result") == "linked" and _after_link(tracker)
        # Back from a message to the caseworker: resume quietly (no "all done" again).
        quiet = tracker.latest_action_name == "action_after_caseworker_message"
        if conversation is None:
            if not _after_link(tracker) and not quiet:
                dispatcher.utter_message(response="utter_ask_code")
            return [SlotSet("linked", False), SlotSet("next_step", "need_code")]

        age_group = conversation.child.age_group
        events: list[dict[str, Any]] = [
            SlotSet("linked", True), SlotSet("age_group", age_group), SlotSet("link_result", None),
        ]
        done = steps_done(tracker)
        finished = FORM_STEPS.get(tracker.latest_action_name or "")
        if finished and not (tracker.active_loop or {}).get("name") and finished not in done:
            done = [*done, finished]
            events.append(SlotSet("steps_done", done))
        step = next_step(linked=True, age_known=age_group is not None, done=done)
        intent = latest_intent(tracker)
        started = tracker.get_slot("step_started")

        if just_linked:
            dispatcher.utter_message(response="utter_welcome")
            dispatcher.utter_message(response="utter_welcome_rules")
        elif _after_link(tracker) and tracker.get_slot("link_result") != "other_child":
            dispatcher.utter_message(response="utter_already_linked")
        elif tracker.get_slot("redo_result") == "unknown":
            # action_redo_topic asked which topic: wait for the child's choice.
            return [*events, SlotSet("redo_result", None), SlotSet("next_step", "wait")]
        elif tracker.latest_action_name == "update_form":
            dispatcher.utter_message(response="utter_ask_redo")
            return [*events, SlotSet("next_step", "wait")]
        elif intent == "greet":
            dispatcher.utter_message(response="utter_greet_back")
            if step == started and step in RESUMES:
                dispatcher.utter_message(response=RESUMES[step])
            elif step == "done":
                return [*events, *self._returning(dispatcher, turn, domain)]

        if tracker.latest_action_name == "age_form" and not (tracker.active_loop or {}).get("name"):
            dispatcher.utter_message(response="utter_age_thanks")
        if step in INTROS and step != started:
            dispatcher.utter_message(response=INTROS[step])
            events.append(SlotSet("step_started", step))
        elif step == "summary" and step != started:
            events.append(SlotSet("step_started", step))
        if step == "done" and intent != "greet" and not quiet:
            dispatcher.utter_message(response="utter_all_done")
        return [*events, SlotSet("next_step", step)]

    def _returning(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """All done before: show what the child said last time, ask what has changed."""
        try:
            lines = current_lines(turn, domain, marked=True)
        except DB_ERRORS:
            lines = []
        if lines:
            dispatcher.utter_message(response="utter_returning", items="\n".join(lines))
        return [SlotSet("what_changed", None), SlotSet("next_step", "update")]


def _after_link(tracker: Tracker) -> bool:
    return tracker.latest_action_name == "action_link_chat"


class ActionRedoTopic(TurnAction):
    """Do a topic again: its earlier answers are replaced, and the summary follows."""

    def name(self) -> str:
        return "action_redo_topic"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> list[dict[str, Any]]:
        step = next(tracker.get_latest_entity_values("topic"), None) or topics.redo_step(
            latest_text(tracker)
        )
        if step not in TOPIC_STEPS:
            dispatcher.utter_message(response="utter_ask_redo_which")
            return [SlotSet("redo_result", "unknown")]
        done = steps_done(tracker)
        if step not in done and tracker.get_slot("step_started") != step:
            # Not reached yet: nothing to redo, the interview simply goes on.
            return [SlotSet("redo_result", None)]
        try:
            conversation = turn.conversation
            if conversation is not None:
                with turn.db() as session:
                    interview.replace_step(session=session, child_id=conversation.child_id,
                                           step=step)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return [SlotSet("redo_result", None)]
        dispatcher.utter_message(response="utter_redo_ok")
        remaining = [s for s in done if s not in (step, "summary")]
        events = [SlotSet(slot, value) for slot, value in clear_step(step).items()]
        return [*events, SlotSet("steps_done", remaining), SlotSet("step_started", None),
                SlotSet("redo_result", None)]
