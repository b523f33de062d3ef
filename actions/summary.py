"""The summary ("Dit heb ik opgeschreven") and the child's choice, per item, of what
the caseworker may read. Nothing is shared without the child's yes: an item is shared
only when the child chose "all", picked its number, or said yes to it on its own."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import FormValidation, Turn, TurnAction
from actions.caseworker import deadlines
from actions.common import (
    DB_ERRORS,
    ask_yes_no,
    choices,
    chosen,
    latest_text,
    with_step,
    yes_no,
)
from actions.copy import render
from bot.notify.summaries import notify_summary_shared
from bot.storage import interview, loop, repo
from bot.storage.interview import Item
from bot.storage.models import Answer, Caseworker, Person, TrustedPerson, Wish

_TOPIC_LABELS = {
    "wonen": "utter_label_topic_wonen", "contact": "utter_label_topic_contact",
    "school": "utter_label_topic_school", "hobby": "utter_label_topic_hobby",
    "toekomst": "utter_label_topic_toekomst", "inspraak": "utter_label_topic_inspraak",
    "algemeen": "utter_label_topic_algemeen",
}
_RING_LABELS = {1: "utter_label_ring_1", 2: "utter_label_ring_2", 3: "utter_label_ring_3"}
_FREQUENCY_LABELS = {
    "daily": "utter_label_freq_daily", "weekly": "utter_label_freq_weekly",
    "monthly": "utter_label_freq_monthly", "rarely": "utter_label_freq_rarely",
    "never": "utter_label_freq_never",
}
_CONTACT_LABELS = {
    "more": "utter_label_contact_more", "same": "utter_label_contact_same",
    "less": "utter_label_contact_less",
}
_ANSWER_LABELS = {
    "own_say": "utter_label_own_say", "keep_same": "utter_label_keep_same",
    "changed": "utter_label_changed", "message": "utter_label_message",
    "update": "utter_label_update",
}

def item_line(domain: dict[str, Any], item: Item) -> str:
    """One summary line, in words the child and the caseworker both understand."""
    row = item.row
    if isinstance(row, Wish):
        topic = render(domain, _TOPIC_LABELS.get(row.topic, "utter_label_topic_algemeen"))
        return render(domain, "utter_label_wish", topic=topic, text=row.text)
    if isinstance(row, Person):
        if row.missed:
            return render(domain, "utter_label_missed", label=row.label)
        details = []
        if row.placed_together is True:
            details.append(render(domain, "utter_label_together"))
        elif row.placed_together is False:
            details.append(render(domain, "utter_label_apart_where", where=row.lives_where)
                           if row.lives_where else render(domain, "utter_label_apart"))
        if row.ring in _RING_LABELS:
            details.append(render(domain, _RING_LABELS[row.ring]))
        if row.frequency in _FREQUENCY_LABELS:
            details.append(render(domain, _FREQUENCY_LABELS[row.frequency]))
        if row.contact_wish in _CONTACT_LABELS:
            details.append(render(domain, _CONTACT_LABELS[row.contact_wish]))
        if details:
            return render(domain, "utter_label_person_details", label=row.label,
                          details=", ".join(details))
        return render(domain, "utter_label_person", label=row.label)
    if isinstance(row, TrustedPerson):
        return _trusted_line(domain, row)
    if isinstance(row, Answer):
        step = update_step(row.topic)
        if step is not None:
            return render(domain, "utter_label_update_topic", text=row.text,
                          topic=render(domain, _STEP_LABELS[step]))
        return render(domain, _ANSWER_LABELS[row.topic], text=row.text)
    raise TypeError(f"not a summary item: {row!r}")


_STEP_LABELS = {
    "wishes": "utter_label_step_wishes", "people": "utter_label_step_people",
    "trusted": "utter_label_step_trusted", "say": "utter_label_step_say",
    "continuity": "utter_label_step_continuity", "heard": "utter_label_step_heard",
}


def update_step(topic: str) -> str | None:
    """"update_people" -> "people": what a returning child said changed in a topic."""
    return topic.removeprefix("update_") if topic in interview.UPDATE_TOPICS else None


_CHILD_ANSWER_LABELS = {
    "own_say": "utter_label_child_own_say", "keep_same": "utter_label_child_keep_same",
    "changed": "utter_label_child_changed", "message": "utter_label_child_message",
    "update": "utter_label_child_update",
}
_CHILD_RING_LABELS = {1: "utter_label_child_ring_1", 2: "utter_label_child_ring_2",
                      3: "utter_label_child_ring_3"}
_CHILD_CONTACT_LABELS = {
    "more": "utter_label_child_contact_more", "same": "utter_label_child_contact_same",
    "less": "utter_label_child_contact_less",
}


def child_line(domain: dict[str, Any], item: Item) -> str:
    """One line of the child's own summary, in their own voice ("Je wilt vaker bij oma
    zijn."); the caseworker's labels (item_line) stay for the caseworker."""
    line = _child_line(domain, item)
    return line[:1].upper() + line[1:]


def _child_line(domain: dict[str, Any], item: Item) -> str:
    row = item.row
    if isinstance(row, Wish):
        return render(domain, "utter_label_child_wish", text=row.text)
    if isinstance(row, Person):
        label = row.label
        if row.missed:
            return render(domain, "utter_label_child_missed", label=label)
        parts = [render(domain, _CHILD_RING_LABELS.get(row.ring or 0, "utter_label_child_person"),
                        label=label)]
        if row.placed_together is not None:
            parts.append(render(domain, "utter_label_child_together" if row.placed_together
                                else "utter_label_child_apart", label=label))
        if row.contact_wish in _CHILD_CONTACT_LABELS:
            parts.append(render(domain, _CHILD_CONTACT_LABELS[row.contact_wish], label=label))
        return " ".join(part[:1].upper() + part[1:] for part in parts)
    if isinstance(row, TrustedPerson):
        if row.has_someone is True:
            parts = [render(domain, "utter_label_child_trusted_named", who=row.who) if row.who
                     else render(domain, "utter_label_child_trusted_unnamed")]
        else:
            parts = [render(domain, "utter_label_child_trusted_none" if row.has_someone is False
                            else "utter_label_child_trusted_unsure")]
        if row.wants_involved is True and row.who:
            parts.append(render(domain, "utter_label_child_trusted_involve", who=row.who))
        if row.wants_help is True:
            parts.append(render(domain, "utter_label_child_trusted_help"))
        return " ".join(parts)
    if isinstance(row, Answer):
        topic = "update" if update_step(row.topic) else row.topic
        return render(domain, _CHILD_ANSWER_LABELS[topic], text=row.text)
    raise TypeError(f"not a summary item: {row!r}")


def _trusted_line(domain: dict[str, Any], row: TrustedPerson) -> str:
    if row.has_someone is True:
        parts = [render(domain, "utter_label_trusted_named", who=row.who) if row.who
                 else render(domain, "utter_label_trusted_unnamed")]
        if row.person_knows is True:
            parts.append(render(domain, "utter_label_trusted_knows"))
        elif row.person_knows is False:
            parts.append(render(domain, "utter_label_trusted_not_knows"))
    else:
        parts = [render(domain, "utter_label_trusted_none" if row.has_someone is False
                        else "utter_label_trusted_unsure")]
    if row.wants_involved is True:
        parts.append(render(domain, "utter_label_trusted_involve"))
    if row.wants_help is True:
        parts.append(render(domain, "utter_label_trusted_help"))
    elif row.wants_help is False:
        parts.append(render(domain, "utter_label_trusted_no_help"))
    return ", ".join(parts)


def numbered(domain: dict[str, Any], number: int, item: Item) -> str:
    return render(domain, "utter_label_numbered", number=number, text=child_line(domain, item))


def _child_id(turn: Turn) -> int | None:
    conversation = turn.conversation
    return None if conversation is None else conversation.child_id


def _marked(domain: dict[str, Any], item: Item) -> str:
    line = child_line(domain, item)
    if item.row.shared is not None:
        line = render(domain, "utter_label_shared" if item.row.shared
                      else "utter_label_private", text=line)
    return f"• {line}"


def returning_topics(turn: Turn) -> list[str]:
    """The topics a returning child told about, in interview order."""
    child_id = _child_id(turn)
    if child_id is None:
        return []
    with turn.db() as session:
        return [step for step in interview.INTERVIEW_STEPS
                if interview.step_items(session=session, child_id=child_id, step=step)]


def topic_lines(turn: Turn, domain: dict[str, Any], step: str | None) -> str:
    """What the child said last time about one topic, marked shared or private."""
    child_id = _child_id(turn)
    if step is None or child_id is None:
        return render(domain, "utter_label_update_none")
    with turn.db() as session:
        items = interview.step_items(session=session, child_id=child_id, step=step)
        updates = [item for item in interview.current_items(session=session, child_id=child_id)
                   if isinstance(item.row, Answer) and item.row.topic == f"update_{step}"]
        lines = [_marked(domain, item) for item in [*items, *updates]]
    return render(domain, "utter_label_update_heading", items="\n".join(lines),
                  topic=render(domain, _STEP_LABELS[step]))


class ActionShowSummary(TurnAction):
    """Number what the child told since the last summary; the share form asks next."""

    def name(self) -> str:
        return "action_show_summary"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> list[dict[str, Any]]:
        nothing = [SlotSet("share_mode", False), SlotSet("share_item", False),
                   SlotSet("share_refs", []), SlotSet("share_queue", None)]
        try:
            child_id = _child_id(turn)
            with turn.db() as session:
                items = [] if child_id is None else interview.current_items(
                    session=session, child_id=child_id, undecided_only=True)
                lines = [numbered(domain, n, item) for n, item in enumerate(items, 1)]
                refs = [item.ref for item in items]
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return nothing
        if not items:
            dispatcher.utter_message(response="utter_summary_empty")
            return nothing
        dispatcher.utter_message(response="utter_summary", items="\n".join(lines))
        return [SlotSet("share_refs", refs), SlotSet("share_mode", None),
                SlotSet("share_item", None), SlotSet("share_queue", None)]


# (something kept private, the child has a caseworker) -> what the child is told.
_SHARED_RESPONSES = {
    (False, True): "utter_summary_shared", (True, True): "utter_summary_partly_shared",
    (False, False): "utter_summary_shared_team", (True, False): "utter_summary_partly_shared_team",
}

_NUMBERS_ONLY = re.compile(r"^[\s\d,.;&+/-]*(?:en[\s\d,.;&+/-]*)*$")


def typed_numbers(text: str) -> list[int] | None:
    """"1 3", "1, 3 en 4", "nummer 2" -> the numbers; None when the text is not a list."""
    cleaned = re.sub(r"\b(nummers?|nr)\b", " ", text.lower())
    if not re.search(r"\d", cleaned) or not _NUMBERS_ONLY.match(cleaned):
        return None
    return sorted({int(n) for n in re.findall(r"\d+", cleaned)})


class ValidateShareForm(FormValidation):
    def name(self) -> str:
        return "validate_share_form"

    def _decide(self, turn: Turn, refs: list[str], shared: bool) -> None:
        child_id = _child_id(turn)
        if child_id is None or not refs:
            return
        with turn.db() as session:
            interview.decide(session=session, child_id=child_id, refs=refs, shared=shared)

    def _line(self, turn: Turn, domain: dict[str, Any], refs: list[str], ref: str) -> str:
        child_id = _child_id(turn)
        with turn.db() as session:
            (item,) = interview.get_items(session=session, child_id=child_id or 0, refs=[ref])
            return numbered(domain, refs.index(ref) + 1, item)

    def validate_share_mode(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        refs = list(tracker.get_slot("share_refs") or [])
        text = latest_text(tracker)
        numbers = typed_numbers(text)
        mode = chosen(tracker, choices("share_mode"), by_number=False)
        answer = yes_no(tracker, text)
        try:
            if numbers is not None and mode is None:
                if not numbers or any(not 1 <= n <= len(refs) for n in numbers):
                    dispatcher.utter_message(response="utter_share_numbers_unknown")
                    return {"share_mode": None}
                picked = [refs[n - 1] for n in numbers]
                self._decide(turn, picked, True)
                self._decide(turn, [r for r in refs if r not in picked], False)
                return {"share_mode": "numbers", "share_item": True}
            if mode == "all" or (mode is None and answer == "yes"):
                self._decide(turn, refs, True)
                return {"share_mode": "all", "share_item": True}
            if mode == "none" or (mode is None and answer in ("no", "unsure")):
                # Not sure is not a yes: nothing is shared without the child's yes.
                self._decide(turn, refs, False)
                return {"share_mode": "none", "share_item": False}
            if mode == "each":
                return {"share_mode": "each", "share_queue": refs, "share_item": None,
                        "share_item_text": self._line(turn, domain, refs, refs[0])}
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return {"share_mode": None}
        dispatcher.utter_message(response="utter_choose_please")
        return {"share_mode": None}

    def validate_share_item(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        turn: Turn,
    ) -> dict[str, Any]:
        queue = list(tracker.get_slot("share_queue") or [])
        if not queue:
            dispatcher.utter_message(response="utter_yes_or_no")
            return {"share_item": None}
        answer = ask_yes_no(dispatcher, tracker)
        if answer == "":
            return {"share_item": None}
        refs = list(tracker.get_slot("share_refs") or [])
        try:
            self._decide(turn, queue[:1], answer == "yes")
            rest = queue[1:]
            if rest:
                return {"share_item": None, "share_queue": rest,
                        "share_item_text": self._line(turn, domain, refs, rest[0])}
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            return {"share_item": None}
        return {"share_item": "done", "share_queue": []}


class ActionShareSummary(TurnAction):
    """Send what the child chose to share to the caseworker's outbox."""

    def name(self) -> str:
        return "action_share_summary"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> list[dict[str, Any]]:
        done = [SlotSet("steps_done", with_step(tracker, "summary"))]
        refs = list(tracker.get_slot("share_refs") or [])
        shared_with: tuple[int, Caseworker] | None = None
        has_caseworker = False
        try:
            conversation = turn.conversation
            if conversation is None:
                return done
            with turn.db() as session:
                child = repo.get_child(session=session, child_id=conversation.child_id)
                has_caseworker = child.caseworker is not None
                to_send = interview.items_to_send(session=session, child_id=child.id)
                decided = interview.get_items(session=session, child_id=child.id, refs=refs)
                kept_private = any(item.row.shared is False for item in decided)
                if to_send:
                    body = "\n".join(f"• {item_line(domain, item)}" for item in to_send)
                    summary = interview.send_shared(
                        session=session, child=child, items=to_send, body=body
                    )
                    # Every shared wish and message now waits for the team's answer.
                    loop.open_follow_ups_for_summary(
                        session=session, child=child, summary=summary, deadlines=deadlines()
                    )
                    if child.caseworker is not None:
                        shared_with = (child.id, child.caseworker)
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_cannot_save")
            # The choices are stored; what was not sent goes with the next summary.
            return []
        if to_send:
            # "Ik heb het naar Sanne gestuurd" only when it really went to a caseworker.
            dispatcher.utter_message(response=_SHARED_RESPONSES[(kept_private, has_caseworker)])
        elif refs:
            dispatcher.utter_message(response="utter_summary_private")
        if shared_with is not None:
            # In the background: the child's answer never waits for Telegram.
            child_id, caseworker = shared_with
            settings, chat_id = turn.deps.settings, caseworker.telegram_chat
            email = caseworker.email
            turn.after(lambda: notify_summary_shared(
                settings, chat_id=chat_id, child_id=child_id, caseworker_email=email,
            ))
        return done
