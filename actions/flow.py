"""`action_continue`: decides what comes next, so a child can stop at any point and
come back days later to exactly where they were; `action_redo_topic` lets a child do a
topic again ("ik wil mijn wensen veranderen")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Turn, TurnAction
from actions.checkin import today_due
from actions.common import (
    DB_ERRORS,
    clear_step,
    is_short,
    latest_intent,
    latest_text,
    steps_done,
)
from actions.copy import render
from actions.names import name_slots, name_values
from actions.summary import returning_topics, topic_lines
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
QUIET_AFTER = {"action_after_caseworker_message", "action_after_feeling", "action_after_checkin"}
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
        # Back from a message to the caseworker, a feeling or a check-in: resume quietly
        # (no "all done" again).
        quiet = tracker.latest_action_name in QUIET_AFTER
        if conversation is None:
            if not _after_link(tracker) and not quiet:
                dispatcher.utter_message(response="utter_ask_code")
            return [SlotSet("linked", False), SlotSet("next_step", "need_code")]

        age_group = conversation.child.current_age_group
        names = name_values(conversation.child, domain, age_group)
        events: list[dict[str, Any]] = [
            SlotSet("linked", True), SlotSet("age_group", age_group), SlotSet("link_result", None),
            *name_slots(names),
        ]
        done = steps_done(tracker)
        finished = FORM_STEPS.get(tracker.latest_action_name or "")
        if finished and not (tracker.active_loop or {}).get("name") and finished not in done:
            done = [*done, finished]
            events.append(SlotSet("steps_done", done))
        step = next_step(linked=True, age_known=age_group is not None, done=done)
        intent = latest_intent(tracker)
        started = tracker.get_slot("step_started")
        # A check-in planned for today or before (issue 11) comes first, at the next
        # visit or message; the interview resumes after it.
        due = None
        if (not just_linked and not _after_link(tracker) and step not in ("need_code", "ask_age")
                and tracker.latest_action_name != "action_after_checkin"):
            try:
                due = today_due(turn)
            except DB_ERRORS:
                due = None

        if just_linked:
            dispatcher.utter_message(response="utter_welcome", **names)
            dispatcher.utter_message(response="utter_welcome_rules", **names)
        elif _after_link(tracker) and tracker.get_slot("link_result") != "other_child":
            dispatcher.utter_message(response="utter_already_linked", **names)
        elif tracker.get_slot("redo_result") == "unknown":
            # action_redo_topic asked which topic: wait for the child's choice.
            return [*events, SlotSet("redo_result", None), SlotSet("next_step", "wait")]
        elif tracker.latest_action_name == "update_form":
            dispatcher.utter_message(response="utter_ask_redo", **names)
            return [*events, SlotSet("next_step", "wait")]
        elif intent == "greet":
            dispatcher.utter_message(response="utter_greet_back", **names)
            if step == started and step in RESUMES and due is None:
                dispatcher.utter_message(response=RESUMES[step], **names)
            elif step == "done" and due is None:
                return [*events, *self._returning(dispatcher, turn, domain, names)]
        elif step == "done" and _is_free_text(tracker) and self._keep(dispatcher, turn, tracker,
                                                                      names):
            # Kept as news: the summary asks who may read it.
            done = [s for s in done if s != "summary"]
            events.append(SlotSet("steps_done", done))
            step = "summary"

        if tracker.latest_action_name == "age_form" and not (tracker.active_loop or {}).get("name"):
            dispatcher.utter_message(response="utter_age_thanks", **names)
        if due is not None:
            return [*events, SlotSet("next_step", "checkin")]
        if step in INTROS and step != started:
            if not (just_linked and step == STEPS[0]):
                # The welcome leads into the first topic: no intro on the first turn.
                dispatcher.utter_message(response=INTROS[step], **names,
                                         progress=progress(domain, age_group, step, done))
            events.append(SlotSet("step_started", step))
        elif step == "summary" and step != started:
            events.append(SlotSet("step_started", step))
        if step == "done" and intent != "greet" and not quiet:
            dispatcher.utter_message(response="utter_all_done", **names)
        return [*events, SlotSet("next_step", step)]

    def _returning(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: dict[str, Any],
        names: dict[str, str],
    ) -> list[dict[str, Any]]:
        """All done before: go through the topics the child told about, one at a time,
        showing what they said then and asking what has changed since."""
        try:
            queue = returning_topics(turn)
            lines = topic_lines(turn, domain, queue[0] if queue else None)
        except DB_ERRORS:
            queue, lines = [], render(domain, "utter_label_update_none")
        dispatcher.utter_message(response="utter_returning", **names)
        return [SlotSet("what_changed", None), SlotSet("update_queue", queue),
                SlotSet("update_topic", queue[0] if queue else None),
                SlotSet("update_lines", lines), SlotSet("next_step", "update")]

    def _keep(
        self, dispatcher: CollectingDispatcher, turn: Turn, tracker: Tracker,
        names: dict[str, str],
    ) -> bool:
        """A child who had finished types something: it is stored as news, never lost."""
        try:
            conversation = turn.conversation
            if conversation is None:
                return False
            with turn.db() as session:
                interview.add_answer(session=session, child_id=conversation.child_id,
                                     session_id=conversation.id, topic="update",
                                     text=latest_text(tracker).strip())
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return False
        dispatcher.utter_message(response="utter_returning_kept", **names)
        return True


def _is_free_text(tracker: Tracker) -> bool:
    """Words of the child's own, not a button, a greeting or a short yes/no."""
    text = latest_text(tracker).strip()
    if not text or text.startswith("/"):
        return False
    intent = latest_intent(tracker)
    if intent in ("inform", "nlu_fallback"):
        return True
    return intent not in ("greet", "goodbye", "thanks") and not is_short(text)


def progress(domain: dict[str, Any], age_group: str | None, step: str, done: list[str]) -> str:
    """"Nog 3 onderwerpen." counting this topic; the last one is said as such."""
    left = sum(1 for s in TOPIC_STEPS if s not in done or s == step)
    if left <= 1:
        return render(domain, "utter_label_progress_last", age_group)
    return render(domain, "utter_label_progress_many", age_group, count=left)


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
