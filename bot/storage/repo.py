"""Repository functions. Each takes the session as a keyword argument; the caller
owns the transaction (`with session.begin():`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.age import born_from_age
from bot.storage.models import (
    Caseworker,
    Child,
    ConversationSession,
    Invite,
    SharedSummary,
    Wish,
    utcnow,
)


class NotFound(LookupError):
    pass


def add_caseworker(*, session: Session, email: str, name: str) -> Caseworker:
    caseworker = Caseworker(email=email.strip().lower(), name=name.strip())
    session.add(caseworker)
    session.flush()
    return caseworker


def get_caseworker(*, session: Session, email: str) -> Caseworker:
    found = session.scalar(select(Caseworker).where(Caseworker.email == email.strip().lower()))
    if found is None:
        raise NotFound(f"no caseworker with email {email}")
    return found


def create_child(
    *,
    session: Session,
    display_name: str | None,
    age: int | None,
    age_group: str | None,
    caseworker: Caseworker | None,
    born: str | None = None,
) -> Child:
    if born is None and age is not None:
        born = born_from_age(age)
    child = Child(display_name=display_name, age=age, age_group=age_group, caseworker=caseworker,
                  born=born)
    session.add(child)
    session.flush()
    return child


def get_child(*, session: Session, child_id: int) -> Child:
    child = session.get(Child, child_id)
    if child is None:
        raise NotFound(f"no child with id {child_id}")
    return child


def create_invite(
    *, session: Session, child: Child, code_hash: str, ttl: timedelta, now: datetime | None = None
) -> Invite:
    created = now or utcnow()
    invite = Invite(child=child, code_hash=code_hash, created_at=created, expires_at=created + ttl)
    session.add(invite)
    session.flush()
    return invite


class LinkStatus(enum.Enum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"  # this chat redeemed this code before
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class LinkResult:
    status: LinkStatus
    conversation: ConversationSession | None = None


def redeem_invite(
    *,
    session: Session,
    code_hash: str,
    sender_hash: str,
    channel: str,
    now: datetime | None = None,
) -> LinkResult:
    now = now or utcnow()
    invite = session.scalar(select(Invite).where(Invite.code_hash == code_hash))
    if invite is None:
        return LinkResult(LinkStatus.UNKNOWN)
    existing = find_conversation(session=session, sender_hash=sender_hash)
    if invite.used_at is not None:
        if existing is not None and existing.child_id == invite.child_id:
            return LinkResult(LinkStatus.ALREADY_LINKED, existing)
        return LinkResult(LinkStatus.USED)
    if invite.expires_at <= now:
        return LinkResult(LinkStatus.EXPIRED)
    invite.used_at = now
    if existing is not None:
        # The chat moves to the child of the new invite (e.g. a re-issued code).
        existing.child_id = invite.child_id
        existing.linked_at = now
        existing.last_seen_at = now
        conversation = existing
    else:
        conversation = ConversationSession(
            child_id=invite.child_id, sender_hash=sender_hash, channel=channel, linked_at=now
        )
        session.add(conversation)
    session.flush()
    return LinkResult(LinkStatus.LINKED, conversation)


def find_conversation(*, session: Session, sender_hash: str) -> ConversationSession | None:
    return session.scalar(
        select(ConversationSession).where(ConversationSession.sender_hash == sender_hash)
    )


def set_child_age(*, session: Session, child: Child, age: int, age_group: str) -> None:
    child.age = age
    child.age_group = age_group
    child.born = born_from_age(age)
    session.flush()


def add_wish(
    *, session: Session, child_id: int, session_id: int | None, text: str, topic: str = "algemeen"
) -> Wish:
    wish = Wish(child_id=child_id, session_id=session_id, text=text, topic=topic)
    session.add(wish)
    session.flush()
    return wish


def list_wishes(*, session: Session, child_id: int, since: datetime | None = None) -> list[Wish]:
    query = select(Wish).where(Wish.child_id == child_id)
    if since is not None:
        query = query.where(Wish.created_at >= since)
    return list(session.scalars(query.order_by(Wish.id)))


def add_shared_summary(*, session: Session, child: Child, body: str) -> SharedSummary:
    summary = SharedSummary(child_id=child.id, caseworker_id=child.caseworker_id, body=body)
    session.add(summary)
    session.flush()
    return summary


def list_shared_summaries(
    *, session: Session, caseworker_email: str | None = None
) -> list[SharedSummary]:
    query = select(SharedSummary).order_by(SharedSummary.created_at, SharedSummary.id)
    if caseworker_email is not None:
        caseworker = get_caseworker(session=session, email=caseworker_email)
        query = query.where(SharedSummary.caseworker_id == caseworker.id)
    return list(session.scalars(query))
