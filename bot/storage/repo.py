"""Repository functions. Each takes the session as a keyword argument; the caller
owns the transaction (`with session.begin():`)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import invites
from bot.age import born_from_age
from bot.storage.models import (
    Caseworker,
    ChatGeneration,
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


def issue_invite(
    *, session: Session, child: Child, secret: str, ttl: timedelta, now: datetime | None = None
) -> tuple[str, Invite]:
    """A new invite code for the child: the code, to be shown once, and the stored invite,
    which holds only the code's keyed hash (`secret`: MIJNSTEM_PSEUDONYM_SECRET)."""
    code = invites.new_code()
    invite = create_invite(
        session=session, child=child, code_hash=invites.code_hash(secret, code), ttl=ttl, now=now
    )
    return code, invite


class LinkStatus(enum.Enum):
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"  # this chat redeemed this code before
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    # The chat is linked to another child: it is never moved (see `plan_link`).
    OTHER_CHILD = "other_child"
    # The channel is not offered at this child's age (Telegram: from 16).
    TOO_YOUNG = "too_young"


@dataclass(frozen=True)
class LinkResult:
    status: LinkStatus
    conversation: ConversationSession | None = None
    # For TOO_YOUNG: the child's age band, so the refusal can be worded for them.
    age_group: str | None = None


def _too_young(child: Child, min_age: int | None) -> bool:
    """Fail closed: an unknown age is not old enough for a channel with a minimum."""
    return min_age is not None and (child.age is None or child.age < min_age)


def redeem_invite(
    *,
    session: Session,
    code_hash: str,
    sender_hash: str,
    channel: str,
    now: datetime | None = None,
    min_age: int | None = None,
) -> LinkResult:
    """Link the chat `sender_hash` to the invite's child.

    - A chat linked to one child is never moved to another: OTHER_CHILD, and the
      invite stays unused (the caller may redeem it in a fresh session, `plan_link`).
    - `min_age`: refuse (TOO_YOUNG, invite unused) a child younger than this or of
      unknown age (Telegram is offered from 16).
    - The invite is taken with one conditional UPDATE (`used_at IS NULL`), so a code
      works once even when two chats send it at the same moment.
    """
    now = now or utcnow()
    invite = session.scalar(select(Invite).where(Invite.code_hash == code_hash))
    if invite is None:
        return LinkResult(LinkStatus.UNKNOWN)
    existing = find_conversation(session=session, sender_hash=sender_hash)
    if existing is not None and existing.child_id != invite.child_id:
        return LinkResult(LinkStatus.OTHER_CHILD, existing)
    if invite.used_at is not None:
        if existing is not None:
            return LinkResult(LinkStatus.ALREADY_LINKED, existing)
        return LinkResult(LinkStatus.USED)
    if invite.expires_at <= now:
        return LinkResult(LinkStatus.EXPIRED)
    child = invite.child
    if _too_young(child, min_age):
        return LinkResult(LinkStatus.TOO_YOUNG, age_group=child.age_group)
    taken = session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:  # another chat took it a moment ago
        session.expire(invite)
        return LinkResult(LinkStatus.USED)
    session.expire(invite, ["used_at"])
    if existing is not None:
        # The same child with a new code (re-issued): the interview starts afresh.
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


@dataclass(frozen=True)
class LinkPlan:
    """Where a code should be redeemed: in `sender_hashes[index]`, or (index None) in a
    fresh session with a new sender id."""

    index: int | None
    too_young: bool = False
    age_group: str | None = None

    @property
    def fresh(self) -> bool:
        return self.index is None


def plan_link(
    *,
    session: Session,
    code_hash: str,
    sender_hashes: Sequence[str],
    now: datetime | None = None,
    min_age: int | None = None,
) -> LinkPlan:
    """For a channel that can start a fresh session (Telegram, the web chat): decide,
    BEFORE handing "/start CODE" to Rasa, in which session the code belongs.

    `sender_hashes` are the keyed hashes of the sender ids this chat or device has used,
    the current one first. Returns:
    - the index of an earlier session already linked to the code's child (going back
      to it restores that child's conversation, as re-sending a code always did);
    - index 0 (the current session) when it is not linked, or the code is unknown,
      used or expired (the action then answers the failure; nothing moves);
    - `fresh` (index None) when the current session is linked to ANOTHER child and the
      code is valid: the caller must switch to a new sender id (Telegram: a new
      generation, `next_generation`; web: a new web session) and send the code there,
      so child B never sees child A's conversation and A's words are never B's;
    - `too_young` when the channel has a minimum age (`min_age`) that the code's child
      does not reach (or whose age is unknown): the caller refuses kindly and offers
      the web chat; nothing is redeemed.
    Nothing is written here; `redeem_invite` (in the action) does the linking.
    """
    now = now or utcnow()
    invite = session.scalar(select(Invite).where(Invite.code_hash == code_hash))
    if invite is None or not sender_hashes:
        return LinkPlan(0)
    for index, hashed in enumerate(sender_hashes):
        conversation = find_conversation(session=session, sender_hash=hashed)
        if conversation is not None and conversation.child_id == invite.child_id:
            return LinkPlan(index)
    usable = invite.used_at is None and invite.expires_at > now
    if usable and _too_young(invite.child, min_age):
        return LinkPlan(0, too_young=True, age_group=invite.child.age_group)
    current = find_conversation(session=session, sender_hash=sender_hashes[0])
    if current is None or not usable:
        return LinkPlan(0)
    return LinkPlan(None)


def current_generation(*, session: Session, chat_hash: str) -> int:
    """Which session of a chat is in use (0 until a second child's code came in)."""
    row = session.scalar(select(ChatGeneration).where(ChatGeneration.chat_hash == chat_hash))
    return row.generation if row is not None else 0


def set_generation(*, session: Session, chat_hash: str, generation: int) -> None:
    row = session.scalar(select(ChatGeneration).where(ChatGeneration.chat_hash == chat_hash))
    if row is None:
        session.add(ChatGeneration(chat_hash=chat_hash, generation=generation, highest=generation))
    else:
        row.generation = generation
        row.highest = max(row.highest, generation)
    session.flush()


def next_generation(*, session: Session, chat_hash: str) -> int:
    """Start a fresh session for a chat: a generation never used before."""
    row = session.scalar(select(ChatGeneration).where(ChatGeneration.chat_hash == chat_hash))
    fresh = (row.highest + 1) if row is not None else 1
    set_generation(session=session, chat_hash=chat_hash, generation=fresh)
    return fresh


def generations(*, session: Session, chat_hash: str) -> list[int]:
    """The generations of a chat, the current one first, then the others newest first."""
    row = session.scalar(select(ChatGeneration).where(ChatGeneration.chat_hash == chat_hash))
    if row is None:
        return [0]
    return [row.generation, *(g for g in range(row.highest, -1, -1) if g != row.generation)]


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
