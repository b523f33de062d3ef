"""Safety (issues 4 and 9): help at once, an alert for the caseworker when it is an
alarm, and a check that the child is safe right now that does not drop the subject after
one "nee" or "laat maar".

Two tiers come from the NLU pipeline (bot.nlu.safety: the rule layer over the classifier),
at any point: before linking, mid-form, inside a free answer, inside the safety check.

    action_safety_alarm    intent safety_alarm: "bel nu 112" first when the danger is
                           right now (entity safety_immediate), then the helplines and
                           "I pass this on"; store the alert and send it in the background
    action_safety_concern  intent safety_concern: a gentle answer that offers the
                           Kindertelefoon, no urgent alert; a second concern in the same
                           conversation is handled as an alarm
    safety_form            "Ben je nu veilig?" (after a concern: "Hoe gaat het nu met
                           je?", action_ask_safe_now); validate_safety_form reads the
                           answer, and a "nee" always raises an urgent alert
    action_safety_close    the closing words for the answer, and the offer to go on later
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormValidation, Turn, TurnAction
from actions.common import DB_ERRORS, channel_of, latest_intent, latest_text
from bot.safety import alerts, notify

log = logging.getLogger("mijnstem.safety")

CATEGORY_ENTITY = "safety_category"
IMMEDIATE_ENTITY = "safety_immediate"
UNCLEAR = "unclear"
ALARM = "alarm"
CONCERN = "concern"
# The alert category when concerns repeat in one conversation.
REPEATED_CONCERN_CATEGORY = "concern"
# Suicidal thoughts and self-harm get the same help with 113 first.
SELF_CATEGORIES = {"suicide", "self_harm"}
# The child answers "not safe": a new, most urgent alert.
NOT_SAFE_CATEGORY = "danger_now"

# How many times the question is asked again after an answer that is not a yes.
MAX_REASKS = 2
# "laat maar", "stop", "doei": the bot repeats that help is there and asks once more.
LET_GO_INTENTS = {"stop", "skip", "goodbye", "thanks", "redo_topic", "forget_me"}

CLOSING = {
    "safe": "utter_safety_glad",
    "unsafe": "utter_safety_keep_help",
    "later": "utter_safety_later",
}
CONCERN_CLOSING = {
    "safe": "utter_safety_concern_glad",
    "later": "utter_safety_concern_later",
}


def _signal(tracker: Tracker) -> tuple[str, int | None, int | None]:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == CATEGORY_ENTITY:
            return str(entity.get("value") or UNCLEAR), entity.get("start"), entity.get("end")
    return UNCLEAR, None, None


def _immediate(tracker: Tracker) -> bool:
    return any(
        e.get("entity") == IMMEDIATE_ENTITY and e.get("value") == "yes"
        for e in tracker.latest_message.get("entities") or []
    )


def _alarm(
    dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn, category: str,
    start: int | None, end: int | None, *, immediate: bool,
) -> list[dict[str, Any]]:
    """112 first when the danger is right now, then the helplines, then the alert."""
    if immediate:
        dispatcher.utter_message(response="utter_safety_call_112")
    dispatcher.utter_message(
        response="utter_safety_alarm_self" if category in SELF_CATEGORIES
        else "utter_safety_alarm"
    )
    try:
        raise_alert(turn, tracker, category, start, end)
    except Exception:  # noqa: BLE001 - the child's reply must never break
        log.exception("safety alert failed")
    return [SlotSet("safe_now", None), SlotSet("safety_reasks", 0),
            SlotSet("safety_let_go", 0), SlotSet("safety_level", ALARM)]


def raise_alert(
    turn: Turn, tracker: Tracker, category: str, start: int | None = None,
    end: int | None = None,
) -> int | None:
    """Store an alert for this chat and send it once stored; the id, or None when it
    could not be stored (then the safeguarding contact is e-mailed without a stored
    alert, also when the action's transaction fails to commit later)."""
    d = turn.deps
    sender = turn.sender_hash
    channel = channel_of(tracker.sender_id)
    words = alerts.excerpt(latest_text(tracker), start, end)

    def unstored() -> None:
        notify.run_in_background(
            notify.deliver_unstored(
                d.settings, category=category, channel=channel, sender_ref=sender[:8]
            )
        )

    try:
        conversation = turn.conversation
        with turn.db() as session:
            existing = alerts.recent_open_alert(
                session=session, sender_hash=sender, category=category
            )
            if existing is not None:
                return existing.id  # the same alarm again: already on its way
            alert = alerts.create_alert(
                session=session,
                sender_hash=sender,
                channel=channel,
                category=category,
                excerpt_text=words,
                child_id=conversation.child_id if conversation else None,
                caseworker_id=conversation.child.caseworker_id if conversation else None,
            )
            session.flush()
            alert_id = alert.id
    except DB_ERRORS:
        log.exception("safety alert could not be stored; e-mailing it unstored")
        turn.after(unstored, on_rollback=unstored)
        return None
    turn.after(lambda: notify.deliver_in_background(d.settings, d.sessions, alert_id),
               on_rollback=unstored)
    return alert_id


class ActionSafetyAlarm(TurnAction):
    # The help is the reply, whatever happens to the alert.
    keep_replies = True

    def name(self) -> str:
        return "action_safety_alarm"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> list[dict[str, Any]]:
        category, start, end = _signal(tracker)
        # The help comes first, whatever happens to the alert.
        return _alarm(dispatcher, tracker, turn, category, start, end,
                      immediate=_immediate(tracker))


class ActionSafetyConcern(TurnAction):
    """A concern: a gentle answer and help offered, no urgent alert. The second concern
    in a conversation is an alarm (helplines and an alert).

    A concern of unclear kind (the learned layer or the classifier alone, no rule named
    it) is a question, not a conclusion: the bot asks how the child is without saying
    "dat is niet fijn", and it does not count towards the second concern (about 3% of
    everyday answers get one: two in one conversation must not page the team)."""

    keep_replies = True

    def name(self) -> str:
        return "action_safety_concern"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> list[dict[str, Any]]:
        category, start, end = _signal(tracker)
        unclear = category == UNCLEAR
        seen = int(tracker.get_slot("safety_concerns") or 0)
        counted = [] if unclear else [SlotSet("safety_concerns", seen + 1)]
        if seen >= 1 and not unclear:
            events = _alarm(dispatcher, tracker, turn, REPEATED_CONCERN_CATEGORY, start, end,
                            immediate=False)
            return events + counted
        dispatcher.utter_message(
            response="utter_safety_concern_unclear" if unclear else "utter_safety_concern")
        return [SlotSet("safe_now", None), SlotSet("safety_reasks", 0),
                SlotSet("safety_let_go", 0), SlotSet("safety_level", CONCERN), *counted]


class ActionAskSafeNow(Action):
    """The safety check's question: after a concern, how the child is doing."""

    def name(self) -> str:
        return "action_ask_safe_now"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        concern = tracker.get_slot("safety_level") == CONCERN
        dispatcher.utter_message(
            response="utter_ask_safe_now_concern" if concern else "utter_ask_safe_now"
        )
        return []


class ValidateSafetyForm(FormValidation):
    # "Ben je nu veilig?" is only ever answered when asked; the help always stands.
    keeps_unasked = False
    keep_replies = True
    # The check is the gentle question already: an unclear concern here is an answer
    # ("ja" is still safe), without a line of its own.
    notes_unclear_concern = False

    def name(self) -> str:
        return "validate_safety_form"

    def validate_safe_now(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        intent = latest_intent(tracker)
        reasks = int(tracker.get_slot("safety_reasks") or 0)
        if intent == "affirm":
            return {"safe_now": "safe"}
        if intent == "deny":
            # "Nee" to "ben je nu veilig?": not safe. 112, stay, and a new urgent alert;
            # after a concern this is where it becomes an alarm.
            dispatcher.utter_message(response="utter_safety_not_safe")
            try:
                raise_alert(turn, tracker, NOT_SAFE_CATEGORY)
            except Exception:  # noqa: BLE001
                log.exception("safety alert failed")
            if reasks >= MAX_REASKS:
                return {"safe_now": "unsafe", "safety_level": ALARM}
            return {"safe_now": None, "safety_reasks": reasks + 1, "safety_level": ALARM}
        if intent in LET_GO_INTENTS and tracker.get_slot("safety_level") == CONCERN:
            # A concern is the child's to close: no alert was sent, nothing to insist on.
            return {"safe_now": "later"}
        if intent in LET_GO_INTENTS:
            # "Laat maar": not dropped at once. Help is there, the caseworker knows,
            # one more ask; then the offer to go on later.
            let_go = int(tracker.get_slot("safety_let_go") or 0)
            if let_go >= 1 or reasks >= MAX_REASKS:
                return {"safe_now": "later"}
            dispatcher.utter_message(response="utter_safety_dont_drop")
            return {"safe_now": None, "safety_let_go": let_go + 1,
                    "safety_reasks": reasks + 1}
        if reasks >= MAX_REASKS:
            return {"safe_now": "later"}
        dispatcher.utter_message(
            response="utter_safety_unsure" if intent == "dont_know" else "utter_safety_yes_or_no"
        )
        return {"safe_now": None, "safety_reasks": reasks + 1}


class ActionSafetyClose(Action):
    def name(self) -> str:
        return "action_safety_close"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        answer = str(tracker.get_slot("safe_now"))
        if tracker.get_slot("safety_level") == CONCERN and answer in CONCERN_CLOSING:
            response = CONCERN_CLOSING[answer]
        else:
            response = CLOSING.get(answer, "utter_safety_later")
        dispatcher.utter_message(response=response)
        return [SlotSet("safe_now", None), SlotSet("safety_reasks", 0),
                SlotSet("safety_let_go", 0), SlotSet("safety_level", None)]
