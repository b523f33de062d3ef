"""What every action shares: one transaction per action run, off the event loop, and
for the forms the "was it asked" guard applied once.

A `Turn` is the database side of one action run: one session and one transaction, the
chat's conversation looked up once and handed to whatever needs it. The action's body
runs in a worker thread (`asyncio.to_thread`), so a slow query or a busy SQLite file
never stalls the action server's event loop; work that needs the loop (a notification
sent in the background) is queued with `Turn.after` and runs once the transaction has
committed, so nobody is told about a row that was rolled back.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from sqlalchemy.orm import Session

from actions import deps
from actions.common import DB_ERRORS, kept, unclear_concern, was_asked
from bot.pseudonym import sender_hash
from bot.storage import repo
from bot.storage.models import ConversationSession

log = logging.getLogger("mijnstem.actions")

T = TypeVar("T")
Events = list[dict[str, Any]]
_UNSET: Any = object()


class Turn:
    """One action run's database work: one session, one transaction, one lookup."""

    def __init__(self, sender_id: str) -> None:
        self.deps = deps.get()
        self.sender_id = sender_id
        self.failed = False
        self._session: Session | None = None
        self._conversation: Any = _UNSET
        self._on_commit: list[Callable[[], object]] = []
        self._on_rollback: list[Callable[[], object]] = []

    @property
    def sender_hash(self) -> str:
        return sender_hash(self.deps.settings.pseudonym_secret, self.sender_id)

    @contextmanager
    def db(self) -> Iterator[Session]:
        """The action's session. A database error marks the turn failed (everything is
        rolled back at the end) and is re-raised for the action to answer kindly."""
        try:
            if self._session is None:
                self._session = self.deps.sessions()
                self._session.begin()
            yield self._session
        except DB_ERRORS:
            self.failed = True
            raise

    @property
    def conversation(self) -> ConversationSession | None:
        """The linked conversation of this chat, looked up once per action run."""
        if self._conversation is _UNSET:
            with self.db() as session:
                self._conversation = repo.find_conversation(
                    session=session, sender_hash=self.sender_hash
                )
        return self._conversation  # type: ignore[no-any-return]

    def after(
        self, on_commit: Callable[[], object], on_rollback: Callable[[], object] | None = None
    ) -> None:
        """Run `on_commit` on the event loop once the transaction is committed (or
        `on_rollback` when it is not)."""
        self._on_commit.append(on_commit)
        if on_rollback is not None:
            self._on_rollback.append(on_rollback)

    def finish(self) -> bool:
        """Commit (or roll back after a failure); True when the work is stored."""
        if self._session is None:
            return not self.failed
        try:
            if self.failed:
                self._session.rollback()
                return False
            try:
                self._session.commit()
            except DB_ERRORS:
                log.exception("action transaction failed to commit")
                self._session.rollback()
                self.failed = True
                return False
            return True
        finally:
            self._session.close()

    def run_callbacks(self, committed: bool) -> None:
        for callback in self._on_commit if committed else self._on_rollback:
            try:
                callback()
            except Exception:  # a notification must never break the child's reply
                log.exception("after-commit work failed")


async def in_turn(
    tracker: Tracker, dispatcher: CollectingDispatcher, work: Callable[[Turn], T], failed: T,
    *, keep_replies: bool = False,
) -> T:
    """Run `work` in a worker thread inside one transaction. When the transaction cannot
    be committed although `work` reported no error, its replies are replaced by
    `utter_cannot_save` and `failed` is returned: nothing claims to be saved that is not.
    With `keep_replies` (the safety help must always reach the child) the result stands
    and the work's `on_rollback` callbacks deal with what was not stored."""
    turn = Turn(tracker.sender_id)
    messages_before = len(dispatcher.messages)

    def body() -> tuple[T, bool, bool]:
        reported = False
        try:
            result = work(turn)
            reported = turn.failed
        finally:
            committed = turn.finish()
        return result, committed, reported

    result, committed, reported = await asyncio.to_thread(body)
    turn.run_callbacks(committed)
    if committed or reported or keep_replies:
        return result
    del dispatcher.messages[messages_before:]
    dispatcher.utter_message(response="utter_cannot_save")
    return failed


class TurnAction(Action, ABC):
    """A plain action whose body (`act`) runs in one transaction off the event loop.
    Abstract, so rasa-sdk does not register it as an action of its own."""

    keep_replies = False

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> Events: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        events: Events = await in_turn(
            tracker, dispatcher, lambda turn: self.act(dispatcher, tracker, domain, turn), [],
            keep_replies=self.keep_replies,
        )
        return changes_only(tracker, events)


# Events that leave every slot as it was: a SlotSet may be left out before any other.
_SLOT_NEUTRAL = frozenset({"slot", "bot"})


def changes_only(tracker: Tracker, events: Events) -> Events:
    """`events` without the SlotSets that set a slot to the value it already has.

    `action_link_chat` empties every interview slot and `action_continue` sets the
    child's name, age group and link state at every step, nearly always to what they
    were. Each such event was stored (encrypted), replayed and sent back and forth on
    every later turn, and changed nothing: the dialogue's states are built from slot
    values, not from the events that set them. Only the leading run of slot and bot
    events is looked at; after any other event (a reset, a restart) all are kept."""
    values = dict(tracker.slots)
    kept: Events = []
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind not in _SLOT_NEUTRAL:
            return [*kept, *events[index:]]
        if kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name in values and values[name] == value:
                continue
            values[name] = value
        kept.append(event)
    return kept


Validator = Callable[[Any, CollectingDispatcher, Tracker, dict[str, Any], Turn], dict[str, Any]]


class FormValidation(FormValidationAction):
    """The forms' validation: each `validate_<slot>(value, dispatcher, tracker, domain,
    turn)` runs only for the slot the form asked for, all in one transaction.

    A form also extracts from the message that activated it ("nee", "hoi"), and Rasa
    re-validates the slots filled before when a form is activated again. A slot the form
    did not ask for keeps its earlier answer (`kept`), or is emptied when the form sets
    `keeps_unasked = False` (a value that is only ever valid as an answer)."""

    keeps_unasked = True
    keep_replies = False
    # A concern of unclear kind (no rule named it: bot/nlu/safety.py) does not leave the
    # form: the message is the answer, and one gentle line follows it before the next
    # question (no safety check, no alert, not counted as a concern).
    notes_unclear_concern = True

    @abstractmethod
    def name(self) -> str: ...

    def unasked(self, slot: str, value: Any, tracker: Tracker) -> dict[str, Any]:
        return {slot: kept(tracker, value) if self.keeps_unasked else None}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        wanted = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        slots = {k: v for k, v in tracker.slots_to_validate().items() if k in wanted}
        asked = tracker.get_slot("requested_slot")

        def work(turn: Turn) -> Events:
            validated = self.validate_slots(slots, dispatcher, tracker, domain, turn)
            return [SlotSet(name, value) for name, value in validated.items()]

        # On a failed commit: nothing extracted is kept, the form asks again.
        events = await in_turn(tracker, dispatcher, work,
                               [SlotSet(name, None) for name in slots],
                               keep_replies=self.keep_replies)
        if self.notes_unclear_concern and asked in slots and unclear_concern(tracker):
            # After whatever the form says to the answer, before its next question.
            dispatcher.utter_message(response="utter_safety_unclear_note")
        return events

    def validate_slots(
        self, slots: dict[str, Any], dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: dict[str, Any], turn: Turn,
    ) -> dict[str, Any]:
        """Validate `slots` in order, each seeing what the ones before it changed."""
        slots = dict(slots)
        for name, value in list(slots.items()):
            method: Validator | None = getattr(self, f"validate_{name.replace('-', '_')}", None)
            if method is None:
                continue
            if not was_asked(tracker, name):
                output = self.unasked(name, value, tracker)
            else:
                output = method(value, dispatcher, tracker, domain, turn)
            slots.update(output)
            tracker.slots.update(output)
        return slots
