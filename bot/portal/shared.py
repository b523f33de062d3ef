"""Everything a child chose to share, over time, for the portal and the PDF.

Only rows with `shared is True` are ever read here: private (False) and undecided
(None) items never leave this module. Rows replaced by a redo of the topic stay, marked
as earlier, because the caseworker already received them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.network.sectors import sector_of
from bot.storage.models import Answer, Person, TrustedPerson, Wish


@dataclass(frozen=True)
class SharedWish:
    id: int
    topic: str
    text: str
    created_at: datetime
    earlier: bool


@dataclass(frozen=True)
class SharedPerson:
    id: int
    label: str
    role: str | None
    sector: str
    ring: int | None
    frequency: str | None
    contact_wish: str | None
    earlier: bool


@dataclass(frozen=True)
class SharedTrusted:
    id: int
    has_someone: bool | None
    who: str | None
    person_knows: bool | None
    wants_help: bool | None
    created_at: datetime
    earlier: bool


@dataclass(frozen=True)
class SharedAnswer:
    id: int
    topic: str  # own_say | keep_same | changed | message | update
    text: str
    created_at: datetime
    earlier: bool


@dataclass
class SharedView:
    wishes: list[SharedWish] = field(default_factory=list)
    people: list[SharedPerson] = field(default_factory=list)
    trusted: list[SharedTrusted] = field(default_factory=list)
    answers: dict[str, list[SharedAnswer]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.wishes or self.people or self.trusted or self.answers)


_Item = TypeVar("_Item", Wish, Person, TrustedPerson, Answer)


def _shared(session: Session, model: type[_Item], child_id: int) -> Sequence[_Item]:
    """The child's items of one kind that the child chose to share, oldest first."""
    return session.scalars(
        select(model).where(model.child_id == child_id, model.shared.is_(True)).order_by(model.id)
    ).all()


def shared_view(*, session: Session, child_id: int) -> SharedView:
    view = SharedView()
    for wish in _shared(session, Wish, child_id):
        view.wishes.append(
            SharedWish(
                wish.id, wish.topic, wish.text, wish.created_at, wish.replaced_at is not None
            )
        )
    for person in _shared(session, Person, child_id):
        view.people.append(
            SharedPerson(
                person.id,
                person.label,
                person.role,
                sector_of(person.role),
                person.ring,
                person.frequency,
                person.contact_wish,
                person.replaced_at is not None,
            )
        )
    for trusted in _shared(session, TrustedPerson, child_id):
        view.trusted.append(
            SharedTrusted(
                trusted.id,
                trusted.has_someone,
                trusted.who,
                trusted.person_knows,
                trusted.wants_help,
                trusted.created_at,
                trusted.replaced_at is not None,
            )
        )
    for answer in _shared(session, Answer, child_id):
        view.answers.setdefault(answer.topic, []).append(
            SharedAnswer(
                answer.id,
                answer.topic,
                answer.text,
                answer.created_at,
                answer.replaced_at is not None,
            )
        )
    return view
