"""The caseload: one row per child the account may see, with safety alerts on top."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage import loop
from bot.storage.models import (
    Alert,
    Answer,
    Caseworker,
    Child,
    ConversationSession,
    FollowUp,
    Invite,
    Person,
    SharedSummary,
    TrustedPerson,
    Wish,
    utcnow,
)


@dataclass(frozen=True)
class Waiting:
    follow_up_id: int
    kind: str  # wish | message
    answer_due: datetime
    overdue: bool
    opened: bool


@dataclass(frozen=True)
class CaseloadRow:
    child_id: int
    name: str | None
    age_group: str | None
    caseworker: str | None
    invite_state: str  # none | unused | expired | linked | in_progress | finished
    last_activity: datetime | None
    unread_summaries: int
    unread_messages: int
    waiting: list[Waiting] = field(default_factory=list)
    closed: bool = False

    @property
    def overdue(self) -> int:
        return sum(1 for w in self.waiting if w.overdue)


@dataclass(frozen=True)
class AlertRow:
    id: int
    child_id: int | None
    category: str
    created_at: datetime


def invite_state(*, session: Session, child: Child, now: datetime) -> str:
    if session.scalar(select(func.count()).where(SharedSummary.child_id == child.id)):
        return "finished"
    for model in (Wish, Person, TrustedPerson, Answer):
        if session.scalar(select(func.count()).where(model.child_id == child.id)):  # type: ignore[attr-defined]
            return "in_progress"
    if session.scalar(select(func.count()).where(ConversationSession.child_id == child.id)):
        return "linked"
    latest = session.scalar(
        select(Invite).where(Invite.child_id == child.id).order_by(Invite.id.desc()).limit(1)
    )
    if latest is None:
        return "none"
    return "expired" if latest.expires_at < now and latest.used_at is None else "unused"


def caseload(
    *, session: Session, children: list[Child], now: datetime | None = None
) -> list[CaseloadRow]:
    now = now or utcnow()
    ids = [c.id for c in children]
    unread = loop.unread_counts(session=session, child_ids=ids)
    waiting: dict[int, list[Waiting]] = {}
    for follow_up in loop.waiting_follow_ups(session=session, child_ids=ids):
        waiting.setdefault(follow_up.child_id, []).append(_waiting(follow_up, now))
    last_seen = dict(
        session.execute(
            select(ConversationSession.child_id, func.max(ConversationSession.last_seen_at))
            .where(ConversationSession.child_id.in_(ids))
            .group_by(ConversationSession.child_id)
        )
        .tuples()
        .all()
    )
    names = {
        cw.id: cw.name
        for cw in session.scalars(
            select(Caseworker).where(
                Caseworker.id.in_({c.caseworker_id for c in children if c.caseworker_id})
            )
        )
    }
    rows = []
    for child in children:
        summaries, messages = unread.get(child.id, (0, 0))
        rows.append(
            CaseloadRow(
                child_id=child.id,
                name=child.display_name,
                age_group=child.age_group,
                caseworker=names.get(child.caseworker_id) if child.caseworker_id else None,
                invite_state=invite_state(session=session, child=child, now=now),
                last_activity=_aware(last_seen.get(child.id)),
                unread_summaries=summaries,
                unread_messages=messages,
                waiting=waiting.get(child.id, []),
                closed=child.closed_at is not None,
            )
        )
    # Overdue first, then the soonest deadline, then the rest by id.
    rows.sort(
        key=lambda r: (
            r.closed,
            -r.overdue,
            min((w.answer_due for w in r.waiting), default=datetime.max.replace(tzinfo=now.tzinfo)),
            r.child_id,
        )
    )
    return rows


def _waiting(follow_up: FollowUp, now: datetime) -> Waiting:
    return Waiting(
        follow_up_id=follow_up.id,
        kind=follow_up.kind,
        answer_due=follow_up.answer_due,
        overdue=loop.is_answer_overdue(follow_up, now) or loop.is_open_overdue(follow_up, now),
        opened=follow_up.opened_at is not None,
    )


def _aware(value: datetime | None) -> datetime | None:
    from datetime import timezone

    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def open_alerts(*, session: Session, child_ids: list[int]) -> list[AlertRow]:
    if not child_ids:
        return []
    return [
        AlertRow(a.id, a.child_id, a.category, a.created_at)
        for a in session.scalars(
            select(Alert)
            .where(Alert.child_id.in_(child_ids), Alert.acknowledged_at.is_(None))
            .order_by(Alert.created_at.desc())
        )
    ]
