"""Repository functions for the interview's answers and the child's per-item sharing
choice. Like bot.storage.repo: each takes the session as a keyword argument and the
caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import (
    Answer,
    Child,
    Person,
    SharedSummary,
    SummaryItem,
    TrustedPerson,
    Wish,
    utcnow,
)

# Free-answer topics (Answer.topic), in the order of the interview.
# "update_<step>": what a returning child says has changed in that topic (issue 11); it
# sits next to the topic's earlier answers. "update": anything else a returning child says.
INTERVIEW_STEPS = ("wishes", "people", "trusted", "say", "continuity", "heard")
UPDATE_TOPICS = tuple(f"update_{step}" for step in INTERVIEW_STEPS)
ANSWER_TOPICS = ("own_say", "keep_same", "changed", "message", "update", *UPDATE_TOPICS)
RINGS = (1, 2, 3)
FREQUENCIES = ("daily", "weekly", "monthly", "rarely", "never")
CONTACT_WISHES = ("more", "same", "less")

# Which rows belong to which interview step (for redoing a topic).
_STEP_ROWS: dict[str, tuple[type[SummaryItem], tuple[str, ...] | None]] = {
    "wishes": (Wish, None),
    "people": (Person, None),
    "trusted": (TrustedPerson, None),
    "say": (Answer, ("own_say",)),
    "continuity": (Answer, ("keep_same", "changed")),
    "heard": (Answer, ("message",)),
}
_KINDS: dict[str, type[SummaryItem]] = {
    "wish": Wish, "person": Person, "trusted": TrustedPerson, "answer": Answer,
}


@dataclass(frozen=True)
class Item:
    """One line of the summary: a reference ("person:4") and the row itself."""

    kind: str
    row: Wish | Person | TrustedPerson | Answer

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.row.id}"


def add_person(
    *,
    session: Session,
    child_id: int,
    session_id: int | None,
    label: str,
    name: str | None,
    role: str | None,
    missed: bool | None = None,
) -> Person:
    person = Person(child_id=child_id, session_id=session_id, label=label, name=name, role=role,
                    missed=missed)
    session.add(person)
    session.flush()
    return person


def current_people(*, session: Session, child_id: int) -> list[Person]:
    """The people the child named (not those of a redone topic)."""
    return _current(session, Person, child_id)  # type: ignore[return-value]


def update_person(
    *,
    session: Session,
    child_id: int,
    person_id: int,
    ring: int | None = None,
    frequency: str | None = None,
    contact_wish: str | None = None,
    placed_together: bool | None = None,
    lives_where: str | None = None,
) -> Person:
    """Set the given details (None leaves a detail as it is)."""
    person = session.get(Person, person_id)
    if person is None or person.child_id != child_id:
        raise LookupError(f"no person {person_id} for child {child_id}")
    if ring is not None:
        if ring not in RINGS:
            raise ValueError(f"ring must be one of {RINGS}")
        person.ring = ring
    if frequency is not None:
        if frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {FREQUENCIES}")
        person.frequency = frequency
    if contact_wish is not None:
        if contact_wish not in CONTACT_WISHES:
            raise ValueError(f"contact_wish must be one of {CONTACT_WISHES}")
        person.contact_wish = contact_wish
    if placed_together is not None:
        person.placed_together = placed_together
    if lives_where is not None:
        person.lives_where = lives_where
    session.flush()
    return person


def add_trusted_person(
    *,
    session: Session,
    child_id: int,
    session_id: int | None,
    has_someone: bool | None,
    who: str | None,
    person_knows: bool | None,
    wants_help: bool | None,
    wants_involved: bool | None = None,
) -> TrustedPerson:
    trusted = TrustedPerson(
        child_id=child_id, session_id=session_id, has_someone=has_someone, who=who,
        person_knows=person_knows, wants_help=wants_help, wants_involved=wants_involved,
    )
    session.add(trusted)
    session.flush()
    return trusted


def add_answer(
    *, session: Session, child_id: int, session_id: int | None, topic: str, text: str
) -> Answer:
    if topic not in ANSWER_TOPICS:
        raise ValueError(f"topic must be one of {ANSWER_TOPICS}")
    answer = Answer(child_id=child_id, session_id=session_id, topic=topic, text=text)
    session.add(answer)
    session.flush()
    return answer


def set_wish_topic(*, session: Session, child_id: int, wish_id: int, topic: str) -> None:
    wish = session.get(Wish, wish_id)
    if wish is None or wish.child_id != child_id:
        raise LookupError(f"no wish {wish_id} for child {child_id}")
    wish.topic = topic
    session.flush()


def _current(session: Session, model: type[SummaryItem], child_id: int) -> list[SummaryItem]:
    query = (
        select(model)
        .where(model.child_id == child_id, model.replaced_at.is_(None))  # type: ignore[attr-defined]
        .order_by(model.id)  # type: ignore[attr-defined]
    )
    return list(session.scalars(query))


def current_items(*, session: Session, child_id: int, undecided_only: bool = False) -> list[Item]:
    """What the child has told, in interview order, without rows of redone topics; what
    a returning child said had changed follows each topic's earlier answers."""
    items: list[Item] = []
    answers = _current(session, Answer, child_id)
    for step in INTERVIEW_STEPS:
        items += step_items(session=session, child_id=child_id, step=step, answers=answers)
        items += [Item("answer", row) for row in answers  # type: ignore[arg-type]
                  if row.topic == f"update_{step}"]  # type: ignore[attr-defined]
    items += [Item("answer", row) for row in answers if row.topic == "update"]  # type: ignore[attr-defined,arg-type]
    if undecided_only:
        items = [item for item in items if item.row.shared is None]
    return items


def step_items(
    *, session: Session, child_id: int, step: str, answers: list[Any] | None = None
) -> list[Item]:
    """The current items of one topic (without the returning child's updates)."""
    model, topics = _STEP_ROWS[step]
    if model is Answer:
        rows = answers if answers is not None else _current(session, Answer, child_id)
        return [Item("answer", row) for topic in topics or () for row in rows  # type: ignore[arg-type]
                if row.topic == topic]  # type: ignore[union-attr]
    kind = {Wish: "wish", Person: "person", TrustedPerson: "trusted"}[model]  # type: ignore[index]
    return [Item(kind, row) for row in _current(session, model, child_id)]  # type: ignore[arg-type]


def get_items(*, session: Session, child_id: int, refs: list[str]) -> list[Item]:
    found = []
    for ref in refs:
        kind, _, raw_id = ref.partition(":")
        model = _KINDS.get(kind)
        row = session.get(model, int(raw_id)) if model and raw_id.isdigit() else None
        if row is None or row.child_id != child_id:  # type: ignore[attr-defined]
            raise LookupError(f"no item {ref} for child {child_id}")
        found.append(Item(kind, row))  # type: ignore[arg-type]
    return found


def decide(
    *, session: Session, child_id: int, refs: list[str], shared: bool,
    now: datetime | None = None,
) -> None:
    """Record the child's choice for these items (True only after the child's yes)."""
    when = now or utcnow()
    for item in get_items(session=session, child_id=child_id, refs=refs):
        item.row.shared = shared
        item.row.share_decided_at = when
    session.flush()


def items_to_send(*, session: Session, child_id: int) -> list[Item]:
    """Items the child chose to share that have not gone to the caseworker yet."""
    return [
        item for item in current_items(session=session, child_id=child_id)
        if item.row.shared is True and item.row.shared_summary_id is None
    ]


def send_shared(*, session: Session, child: Child, items: list[Item], body: str) -> SharedSummary:
    """Put one summary in the caseworker's outbox and remember which items it carried."""
    summary = SharedSummary(child_id=child.id, caseworker_id=child.caseworker_id, body=body)
    session.add(summary)
    session.flush()
    for item in items:
        if item.row.shared is not True:
            raise ValueError(f"{item.ref} was not shared by the child")
        item.row.shared_summary_id = summary.id
    session.flush()
    return summary


def replace_step(
    *, session: Session, child_id: int, step: str, now: datetime | None = None
) -> int:
    """The child redoes a topic: its current rows are kept for the record but no longer
    current. Returns how many rows were replaced."""
    model, topics = _STEP_ROWS[step]
    rows = _current(session, model, child_id)
    if topics is not None:
        rows = [row for row in rows if row.topic in topics]  # type: ignore[attr-defined]
    rows += [row for row in _current(session, Answer, child_id)
             if row.topic == f"update_{step}"]  # type: ignore[attr-defined]
    when = now or utcnow()
    for row in rows:
        row.replaced_at = when
    session.flush()
    return len(rows)
