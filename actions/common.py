"""Small helpers shared by the actions."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import deps
from bot.pseudonym import sender_hash

CHOICES = Path(__file__).resolve().parent.parent / "bot" / "lexicon" / "nl_choices.yml"

# Errors that mean "the database is unavailable right now": the child gets a kind
# message and nothing they said is dropped (it stays in the tracker and is retried).
DB_ERRORS = (SQLAlchemyError, OSError)


# A concern of unclear kind on an answer (bot/nlu/safety.py): the form keeps the answer.
UNCLEAR_CONCERN_INTENT = "safety_unclear"


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the child's latest message. After an unclear concern it is the
    intent the message has without the concern (next in the ranking), so an answer is
    read and stored exactly as it would have been: "nee" stays a no."""
    name = (tracker.latest_message.get("intent") or {}).get("name")
    if name != UNCLEAR_CONCERN_INTENT:
        return name
    ranking = [r.get("name") for r in tracker.latest_message.get("intent_ranking") or []]
    rest = [r for r in ranking if r and not r.startswith("safety_")]
    return rest[0] if rest else "nlu_fallback"


def unclear_concern(tracker: Tracker) -> bool:
    """The latest message raised a concern no rule named (bot/nlu/safety.py)."""
    return (tracker.latest_message.get("intent") or {}).get("name") == UNCLEAR_CONCERN_INTENT


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def channel_of(sender_id: str) -> str:
    """Our own channels prefix their pseudonymous sender ids ("tg-...", "web-...")."""
    prefix = sender_id.split("-", 1)[0]
    return prefix if prefix in {"tg", "web"} else "rest"


def hashed_sender(tracker: Tracker) -> str:
    return sender_hash(deps.get().settings.pseudonym_secret, tracker.sender_id)


def steps_done(tracker: Tracker) -> list[str]:
    return list(tracker.get_slot("steps_done") or [])


def with_step(tracker: Tracker, step: str) -> list[str]:
    done = steps_done(tracker)
    return done if step in done else [*done, step]


def was_asked(tracker: Tracker, slot: str) -> bool:
    """True when the form asked for this slot. A form also extracts from the message
    that activated it ("nee", "hoi"); such values were not answers to its question."""
    return tracker.get_slot("requested_slot") == slot


def kept(tracker: Tracker, value: Any) -> Any:
    """The value of a slot the form did not just ask for. When a form is activated again
    (a child comes back after "stop"), Rasa re-validates the slots filled before: those
    answers are kept. A value taken from the message that activated the form is not an
    answer to any question: it is dropped."""
    if value is None or (isinstance(value, str) and value == latest_text(tracker)):
        return None
    return value


def button_payload(value: Any) -> str:
    return str(value or "").strip()


# --- the interview (issue 3) ---------------------------------------------------------

# Short answers with these intents mean "skip this question" ("nee", "weet ik niet").
SKIP_INTENTS = {"skip", "dont_know", "deny"}
# A skip is a short answer; a long one is a real answer that happens to start with "nee".
MAX_SKIP_WORDS = 4

# The slots each step fills; cleared when a child redoes the step or links a new code.
STEP_SLOTS: dict[str, tuple[str, ...]] = {
    "wishes": ("wish", "wish_topic", "more_wishes", "last_wish_id", "unsaved_wishes"),
    "people": ("people_text", "people_confirm", "person_ring", "sibling_together",
               "sibling_where", "person_frequency", "person_contact", "more_people",
               "missed_people", "people_found", "people_list", "people_queue",
               "current_person"),
    "trusted": ("trusted_has", "trusted_suggest", "trusted_suggestion", "trusted_who",
                "trusted_who_text", "trusted_knows", "trusted_involve", "trusted_help"),
    "say": ("own_say",),
    "continuity": ("keep_same", "changed_lately"),
    "heard": ("caseworker_message",),
    "summary": ("share_mode", "share_item", "share_refs", "share_queue", "share_item_text"),
    "update": ("what_changed",),
}


def is_short(text: str) -> bool:
    return len(text.split()) <= MAX_SKIP_WORDS


def is_skip(tracker: Tracker, text: str) -> bool:
    return latest_intent(tracker) in SKIP_INTENTS and is_short(text)


def yes_no(tracker: Tracker, text: str) -> str:
    """"yes", "no", "unsure" (don't know, or skip), or "" when the answer is not a yes
    or a no (a long answer never is)."""
    intent = latest_intent(tracker)
    if not is_short(text):
        return ""
    return {"affirm": "yes", "deny": "no", "dont_know": "unsure", "skip": "unsure"}.get(
        intent or "", ""
    )


def ask_yes_no(dispatcher: CollectingDispatcher, tracker: Tracker) -> str:
    """The child's answer to a yes/no question (`yes_no`); when it is neither, the
    child is asked for a yes or a no (`utter_yes_or_no`) and "" is returned."""
    answer = yes_no(tracker, latest_text(tracker))
    if answer == "":
        dispatcher.utter_message(response="utter_yes_or_no")
    return answer


@functools.lru_cache(maxsize=1)
def _choices() -> dict[str, dict[str, tuple[str, ...]]]:
    data = yaml.safe_load(CHOICES.read_text())
    return {
        question: {str(key): tuple(str(s) for s in synonyms) for key, synonyms in keys.items()}
        for question, keys in data.items()
    }


def choices(question: str) -> dict[str, tuple[str, ...]]:
    """The options of a question and what children type for them (nl_choices.yml)."""
    return _choices()[question]


def chosen(
    tracker: Tracker, options: dict[str, tuple[str, ...]], *, by_number: bool = True
) -> str | None:
    """The option a child picked: a button's `choice` entity, a typed number (the n-th
    option), or a typed synonym ("elke week"). Longer synonyms win ("bijna nooit")."""
    entity = next(tracker.get_latest_entity_values("choice"), None)
    if entity in options:
        return str(entity)
    text = " ".join(latest_text(tracker).lower().replace(",", " ").replace(".", " ").split())
    keys = list(options)
    if by_number and text.isdigit() and 1 <= int(text) <= len(keys):
        return keys[int(text) - 1]
    padded = f" {text} "
    best: tuple[int, str] | None = None
    for key, synonyms in options.items():
        for synonym in (key, *synonyms):
            if f" {synonym} " in padded and (best is None or len(synonym) > best[0]):
                best = (len(synonym), key)
    return best[1] if best else None


def clear_step(step: str) -> dict[str, Any]:
    return {slot: None for slot in STEP_SLOTS[step]}


def all_interview_slots() -> dict[str, Any]:
    cleared: dict[str, Any] = {}
    for step in STEP_SLOTS:
        cleared.update(clear_step(step))
    return cleared
