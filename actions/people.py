"""The important people (the network circle): who, picked out of a free answer by
bot/people.py and confirmed by the child; then per person how close (three rings), how
often they see each other now, and whether the child wants more, the same or less."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormValidation, Turn
from actions.common import DB_ERRORS, choices, chosen, is_skip, latest_text, yes_no
from bot.people import find_people
from bot.storage import interview

# Everything about one person; skipping the whole topic fills them all.
_ALL = ("people_text", "people_confirm", "person_ring", "person_frequency", "person_contact",
        "more_people")
_DETAILS = ("person_ring", "person_frequency", "person_contact")


def _found(text: str) -> dict[str, Any] | None:
    people = find_people(text)
    if not people:
        return None
    return {
        "people_found": [{"label": p.label, "name": p.name, "role": p.role} for p in people],
        "people_list": "\n".join(f"• {p.label}" for p in people),
    }


def _new_people(text: str) -> dict[str, Any] | None:
    """The child typed (other) names where a yes or no was asked: confirm those."""
    found = _found(text)
    if found is None:
        return None
    return {"people_text": text, "people_confirm": None, **found,
            **{slot: None for slot in _DETAILS}, "more_people": None}


class ValidatePeopleForm(FormValidation):
    def name(self) -> str:
        return "validate_people_form"

    def validate_people_text(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if not text:
            return {"people_text": None}
        if is_skip(tracker, text):
            dispatcher.utter_message(response="utter_skipped")
            return {slot: False for slot in _ALL}
        found = _found(text)
        if found is None:
            dispatcher.utter_message(response="utter_people_none_found")
            return {"people_text": None}
        return {"people_text": text, **found}

    def validate_people_confirm(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        answer = yes_no(tracker, text)
        if answer == "no":
            dispatcher.utter_message(response="utter_people_retry")
            return {"people_text": None, "people_confirm": None, "people_found": None}
        if answer == "yes":
            return self._store(dispatcher, tracker, turn)
        retyped = _new_people(text)
        if retyped is not None:
            return retyped
        if is_skip(tracker, text):
            dispatcher.utter_message(response="utter_skipped")
            return {slot: False for slot in _ALL}
        dispatcher.utter_message(response="utter_yes_or_no")
        return {"people_confirm": None}

    def _store(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn
    ) -> dict[str, Any]:
        found = list(tracker.get_slot("people_found") or [])
        queue: list[list[Any]] = []
        try:
            conversation = turn.conversation
            if conversation is not None:
                with turn.db() as session:
                    for person in found:
                        row = interview.add_person(
                            session=session, child_id=conversation.child_id,
                            session_id=conversation.id, label=person["label"],
                            name=person.get("name"), role=person.get("role"),
                        )
                        queue.append([row.id, person["label"]])
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return {"people_confirm": None}
        if not queue:
            return {"people_confirm": True, **{slot: False for slot in _DETAILS}}
        dispatcher.utter_message(response="utter_people_details_intro")
        return {"people_confirm": True, "people_found": None, "people_queue": queue,
                "current_person": queue[0][1], **{slot: None for slot in _DETAILS}}

    def _detail(
        self,
        slot: str,
        options: dict[str, tuple[str, ...]],
        column: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        turn: Turn,
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        value = chosen(tracker, options)
        if value is None:
            if is_skip(tracker, text):
                return self._after(slot, "skipped", tracker)
            dispatcher.utter_message(response="utter_choose_please")
            return {slot: None}
        queue = list(tracker.get_slot("people_queue") or [])
        if queue:
            try:
                conversation = turn.conversation
                if conversation is not None:
                    with turn.db() as session:
                        person_id = int(queue[0][0])
                        child_id = conversation.child_id
                        if column == "ring":
                            interview.update_person(session=session, child_id=child_id,
                                                    person_id=person_id, ring=int(value))
                        elif column == "frequency":
                            interview.update_person(session=session, child_id=child_id,
                                                    person_id=person_id, frequency=value)
                        else:
                            interview.update_person(session=session, child_id=child_id,
                                                    person_id=person_id, contact_wish=value)
            except DB_ERRORS:
                dispatcher.utter_message(response="utter_cannot_save")
                return {slot: None}
        return self._after(slot, value, tracker)

    def _after(self, slot: str, value: str, tracker: Tracker) -> dict[str, Any]:
        """After the last question about a person, the next person's questions start."""
        if slot != "person_contact":
            return {slot: value}
        queue = list(tracker.get_slot("people_queue") or [])[1:]
        if queue:
            return {"people_queue": queue, "current_person": queue[0][1],
                    **{s: None for s in _DETAILS}}
        return {slot: value, "people_queue": [], "current_person": None}

    def validate_person_ring(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        return self._detail("person_ring", choices("ring"), "ring", dispatcher, tracker,
                            turn)

    def validate_person_frequency(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        return self._detail("person_frequency", choices("frequency"), "frequency", dispatcher,
                            tracker, turn)

    def validate_person_contact(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        return self._detail("person_contact", choices("contact"), "contact_wish", dispatcher,
                            tracker, turn)

    def validate_more_people(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        answer = yes_no(tracker, text)
        if answer == "yes":
            return {"people_text": None, "people_confirm": None, "people_found": None,
                    **{slot: None for slot in _DETAILS}, "more_people": None}
        if answer in ("no", "unsure"):
            return {"more_people": False}
        retyped = _new_people(text)
        if retyped is not None:
            return retyped
        dispatcher.utter_message(response="utter_yes_or_no")
        return {"more_people": None}
