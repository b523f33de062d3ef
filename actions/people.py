"""The important people (the network circle): who, picked out of a free answer by
bot/people.py and confirmed by the child; then per person how close (three rings), how
often they see each other now, and whether the child wants more, the same or less."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormValidation, Turn
from actions.common import DB_ERRORS, choices, chosen, is_skip, latest_text, yes_no
from bot.people import find_people, is_sibling
from bot.storage import interview

# Everything about one person; skipping the whole topic fills them all.
_ALL = ("people_text", "people_confirm", "person_ring", "sibling_together", "sibling_where",
        "person_frequency", "person_contact", "more_people", "missed_people")
_DETAILS = ("person_ring", "sibling_together", "sibling_where", "person_frequency",
            "person_contact")
YOUNGEST = "6-9"
SKIPPED = "skipped"


def start_person(entry: list[Any], age_group: str | None) -> dict[str, Any]:
    """The questions about one person. Brothers and sisters are also asked whether they
    live together and where; for 6-9 two questions per person (issue 11): how
    important and more or less often, or for a sibling, living together and more or
    less often."""
    role = entry[2] if len(entry) > 2 else None
    sibling = is_sibling(role)
    young = age_group == YOUNGEST
    return {
        "current_person": entry[1],
        "person_ring": SKIPPED if sibling and young else None,
        "sibling_together": None if sibling else False,
        "sibling_where": None if sibling and not young else False,
        "person_frequency": SKIPPED if young else None,
        "person_contact": None,
    }


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
                        queue.append([row.id, person["label"], person.get("role")])
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return {"people_confirm": None}
        if not queue:
            return {"people_confirm": True, **{slot: False for slot in _DETAILS}}
        dispatcher.utter_message(response="utter_people_details_intro")
        return {"people_confirm": True, "people_found": None, "people_queue": queue,
                **start_person(queue[0], tracker.get_slot("age_group"))}

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
            return {"people_queue": queue, **start_person(queue[0], tracker.get_slot("age_group"))}
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

    def _save_sibling(self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn,
                      **details: Any) -> bool:
        queue = list(tracker.get_slot("people_queue") or [])
        if not queue:
            return True
        try:
            conversation = turn.conversation
            if conversation is not None:
                with turn.db() as session:
                    interview.update_person(session=session, child_id=conversation.child_id,
                                            person_id=int(queue[0][0]), **details)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return False
        return True

    def validate_sibling_together(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        value = chosen(tracker, choices("sibling_together"))
        if value is None:
            if is_skip(tracker, text):
                return {"sibling_together": SKIPPED, "sibling_where": False}
            dispatcher.utter_message(response="utter_choose_please")
            return {"sibling_together": None}
        if not self._save_sibling(dispatcher, tracker, turn,
                                  placed_together=value == "together"):
            return {"sibling_together": None}
        if value == "together":
            return {"sibling_together": value, "sibling_where": False}
        return {"sibling_together": value}

    def validate_sibling_where(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        text = str(slot_value or "").strip()
        if not text:
            return {"sibling_where": None}
        if is_skip(tracker, text):
            return {"sibling_where": False}
        if not self._save_sibling(dispatcher, tracker, turn, lives_where=text):
            return {"sibling_where": None}
        return {"sibling_where": text}

    def validate_missed_people(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        """"Wie mis je?": each person named is kept as someone the child misses."""
        text = str(slot_value or "").strip()
        if not text:
            return {"missed_people": None}
        if is_skip(tracker, text):
            return {"missed_people": False}
        people = find_people(text)
        labels = [(p.label, p.name, p.role) for p in people] or [(text, None, None)]
        try:
            conversation = turn.conversation
            if conversation is not None:
                with turn.db() as session:
                    for label, name, role in labels:
                        interview.add_person(session=session, child_id=conversation.child_id,
                                             session_id=conversation.id, label=label,
                                             name=name, role=role, missed=True)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return {"missed_people": None}
        dispatcher.utter_message(response="utter_missed_noted")
        return {"missed_people": text}

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
