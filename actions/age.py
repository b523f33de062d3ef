"""The age question, asked only when the invite did not give one."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormValidation, Turn
from actions.common import DB_ERRORS
from bot.age import MAX_AGE, MIN_AGE, age_group
from bot.storage import repo

# Dutch number words children may type instead of digits.
_NUMBER_WORDS = {
    "zes": 6, "zeven": 7, "acht": 8, "negen": 9, "tien": 10, "elf": 11, "twaalf": 12,
    "dertien": 13, "veertien": 14, "vijftien": 15, "zestien": 16, "zeventien": 17,
    "achttien": 18, "vijf": 5, "vier": 4, "drie": 3, "negentien": 19, "twintig": 20,
}


def parse_age(text: str) -> int | None:
    digits = re.findall(r"\d+", text)
    if digits:
        return int(digits[0])
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    return None


class ValidateAgeForm(FormValidation):
    # An age is only ever an answer to the age question.
    keeps_unasked = False

    def name(self) -> str:
        return "validate_age_form"

    def validate_age(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        age = parse_age(str(slot_value or ""))
        if age is None:
            dispatcher.utter_message(response="utter_age_invalid")
            return {"age": None}
        if not MIN_AGE <= age <= MAX_AGE:
            dispatcher.utter_message(response="utter_age_out_of_range")
            return {"age": None}
        group = age_group(age)
        try:
            conversation = turn.conversation
            if conversation is not None:
                with turn.db() as session:
                    child = repo.get_child(session=session, child_id=conversation.child_id)
                    repo.set_child_age(session=session, child=child, age=age, age_group=group)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return {"age": None}
        return {"age": str(age), "age_group": group}
