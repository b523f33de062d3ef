"""A trusted person: is there someone, who, does that person know, and would the child
like help to find someone. The child chooses; the bot does not steer toward anyone.

Slot values: "yes" / "no" / "unsure" for an answer, False for a question that is left
out (no one to ask about, or the child skipped the topic)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormValidation, Turn
from actions.common import DB_ERRORS, ask_yes_no, is_skip, latest_intent, latest_text, yes_no
from bot.people import find_people, sector
from bot.storage import interview

_SLOTS = ("trusted_has", "trusted_suggest", "trusted_who", "trusted_knows", "trusted_involve",
          "trusted_help")
_BOOLS = {"yes": True, "no": False}


def _label(text: str) -> str:
    """How to name the person back to the child: "tante Ria" from "mijn tante ria"."""
    people = find_people(text)
    return people[0].label if len(people) == 1 else text


class ValidateTrustedForm(FormValidation):
    def name(self) -> str:
        return "validate_trusted_form"

    def _store(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn, **answers: Any
    ) -> bool:
        """Store the whole answer once the last question is answered; False on failure."""
        slots = {
            "has_someone": tracker.get_slot("trusted_has"),
            "person_knows": tracker.get_slot("trusted_knows"),
            "wants_help": tracker.get_slot("trusted_help"),
            "wants_involved": tracker.get_slot("trusted_involve"),
            **answers,
        }
        values: dict[str, Any] = {key: _BOOLS.get(str(value)) for key, value in slots.items()}
        who = tracker.get_slot("trusted_who_text")
        values["who"] = who if values["has_someone"] and isinstance(who, str) else None
        try:
            conversation = turn.conversation
            if conversation is not None:
                with turn.db() as session:
                    interview.add_trusted_person(
                        session=session, child_id=conversation.child_id,
                        session_id=conversation.id, **values,
                    )
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return False
        dispatcher.utter_message(response="utter_trusted_thanks")
        return True

    def validate_trusted_has(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        if latest_intent(tracker) == "skip" and is_skip(tracker, text):
            dispatcher.utter_message(response="utter_skipped")
            return {slot: False for slot in _SLOTS}
        answer = yes_no(tracker, text)
        if answer == "yes":
            return {"trusted_has": "yes", **self._suggestion(turn)}
        if answer:
            # No one, or not sure: the who-questions are left out; help is offered.
            return {"trusted_has": answer, "trusted_suggest": False, "trusted_who": False,
                    "trusted_knows": False, "trusted_involve": False}
        people = find_people(text)
        if people and latest_intent(tracker) != "deny":
            # "ja, mijn oma": the who is answered too.
            return {"trusted_has": "yes", "trusted_suggest": False,
                    "trusted_who": people[0].label, "trusted_who_text": text}
        dispatcher.utter_message(response="utter_yes_or_no")
        return {"trusted_has": None}

    def _suggestion(self, turn: Turn) -> dict[str, Any]:
        """"Is dat misschien oma?": the closest person the child already named (not a
        professional or a pet, not someone they miss); nothing to suggest otherwise."""
        try:
            conversation = turn.conversation
            if conversation is None:
                return {"trusted_suggest": False}
            with turn.db() as session:
                people = [p for p in interview.current_people(session=session,
                                                              child_id=conversation.child_id)
                          if not p.missed and sector(p.role) not in ("professionals", "pets")]
                people.sort(key=lambda p: p.ring or 4)
                label = people[0].label if people else None
        except DB_ERRORS:
            label = None
        if label is None:
            return {"trusted_suggest": False}
        return {"trusted_suggest": None, "trusted_suggestion": label}

    def validate_trusted_suggest(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        answer = yes_no(tracker, text)
        suggestion = tracker.get_slot("trusted_suggestion")
        if answer == "yes" and suggestion:
            return {"trusted_suggest": "yes", "trusted_who": suggestion,
                    "trusted_who_text": suggestion}
        if find_people(text) and latest_intent(tracker) != "affirm":
            # "nee, mijn juf": the who is answered straight away.
            return {"trusted_suggest": "no", "trusted_who": _label(text),
                    "trusted_who_text": _label(text)}
        if answer:
            # Someone else (or skipped): the child says who, in their own words.
            return {"trusted_suggest": answer}
        dispatcher.utter_message(response="utter_yes_or_no")
        return {"trusted_suggest": None}

    def validate_trusted_who(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if not text:
            return {"trusted_who": None}
        if is_skip(tracker, text):
            if not self._store(dispatcher, tracker, turn, person_knows=None, wants_help=None):
                return {"trusted_who": None}
            return {"trusted_who": False, "trusted_knows": False, "trusted_involve": False,
                    "trusted_help": False}
        return {"trusted_who": _label(text), "trusted_who_text": text}

    def validate_trusted_knows(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        answer = ask_yes_no(dispatcher, tracker)
        if answer == "":
            return {"trusted_knows": None}
        return {"trusted_knows": answer}

    def validate_trusted_involve(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        """Does the child want this person involved? Passed on only with a yes."""
        answer = ask_yes_no(dispatcher, tracker)
        if answer == "":
            return {"trusted_involve": None}
        # There is someone: help to find one is not offered (the child did not ask).
        if not self._store(dispatcher, tracker, turn, wants_involved=answer, wants_help=None):
            return {"trusted_involve": None}
        return {"trusted_involve": answer, "trusted_help": False}

    def validate_trusted_help(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        answer = ask_yes_no(dispatcher, tracker)
        if answer == "":
            return {"trusted_help": None}
        if not self._store(dispatcher, tracker, turn, person_knows=None,
                           wants_help=answer):
            return {"trusted_help": None}
        return {"trusted_help": answer}
