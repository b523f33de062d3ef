"""Repository functions for the answer loop (issue 8): follow-ups on what the child
shared, the caseworker's replies, the child's messages and reactions, the team inbox,
assignments with their history, and the queue of e-mail notices.

Like bot.storage.repo: each function takes the session as a keyword argument and the
caller owns the transaction. Times can be passed in (`now=`) so tests control the clock.
Nothing here checks who may do what: the portal's role checks come first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import accounts
from bot.storage.models import (
    FOLLOW_UP_STATUSES,
    Answer,
    Caseworker,
    CheckIn,
    Child,
    ChildAssignment,
    ChildMessage,
    ConversationSession,
    FollowUp,
    FollowUpReply,
    Notice,
    SharedSummary,
    Wish,
    utcnow,
)
from bot.workdays import add_working_days

# Statuses a caseworker can answer with ("nieuw" is only the starting state).
REPLY_STATUSES = FOLLOW_UP_STATUSES[1:]
REACTIONS = ("thanks", "disagree", "own_words")
# What a ChildMessage is: a message, a reaction (add_reaction), a shared feeling, a
# check-in answer.
MESSAGE_KINDS = ("message", "feeling", "checkin")
NOTICE_KINDS = ("new_summary", "new_message", "overdue", "escalation", "team_inbox")


class LoopError(ValueError):
    """A reply or reaction that cannot be stored as given (e.g. "kan_niet" without a reason)."""


@dataclass(frozen=True)
class Deadlines:
    """In Dutch working days; from settings (`followup_open_days`, `followup_answer_days`)."""

    open_days: int = 2
    answer_days: int = 10


# --- follow-ups ----------------------------------------------------------------------


def _new_follow_up(
    session: Session, *, child_id: int, deadlines: Deadlines, now: datetime, **ref: int
) -> FollowUp:
    follow_up = FollowUp(
        child_id=child_id, status="nieuw", created_at=now,
        open_due=add_working_days(now, deadlines.open_days),
        answer_due=add_working_days(now, deadlines.answer_days), **ref,
    )
    session.add(follow_up)
    session.flush()
    return follow_up


def open_follow_ups_for_summary(
    *,
    session: Session,
    child: Child,
    summary: SharedSummary,
    deadlines: Deadlines = Deadlines(),
    now: datetime | None = None,
) -> list[FollowUp]:
    """After the child shared a summary: a follow-up for every shared wish and for the
    interview's message to the caseworker that it carried (one per item, ever), and a
    "new_summary" notice for whoever reads it (caseworker, else the team leads)."""
    now = now or utcnow()
    created: list[FollowUp] = []
    wishes = session.scalars(select(Wish.id).where(
        Wish.shared_summary_id == summary.id,
        ~Wish.id.in_(select(FollowUp.wish_id).where(FollowUp.wish_id.is_not(None))),
    ))
    for wish_id in list(wishes):
        created.append(_new_follow_up(session, child_id=child.id, deadlines=deadlines,
                                      now=now, wish_id=wish_id))
    answers = session.scalars(select(Answer.id).where(
        Answer.shared_summary_id == summary.id, Answer.topic == "message",
        ~Answer.id.in_(select(FollowUp.answer_id).where(FollowUp.answer_id.is_not(None))),
    ))
    for answer_id in list(answers):
        created.append(_new_follow_up(session, child_id=child.id, deadlines=deadlines,
                                      now=now, answer_id=answer_id))
    queue_for_child(session=session, child=child, kind="new_summary",
                    key=f"new_summary:{summary.id}", now=now)
    return created


def get_follow_up(*, session: Session, follow_up_id: int) -> FollowUp | None:
    return session.get(FollowUp, follow_up_id)


def follow_ups_for_child(*, session: Session, child_id: int) -> list[FollowUp]:
    """All of a child's follow-ups, oldest first, with their replies (`.replies`) and
    what they answer (`.wish`, `.answer` or `.message`)."""
    return list(session.scalars(
        select(FollowUp).where(FollowUp.child_id == child_id).order_by(FollowUp.id)
    ))


def mark_opened(
    *, session: Session, follow_up: FollowUp, by: Caseworker, now: datetime | None = None
) -> None:
    """The caseworker opened the item (meets the open deadline); "nieuw" becomes
    "gelezen". Opening again changes nothing."""
    if follow_up.opened_at is None:
        follow_up.opened_at = now or utcnow()
        follow_up.opened_by_id = by.id
    if follow_up.status == "nieuw":
        follow_up.status = "gelezen"
    session.flush()


def add_reply(
    *,
    session: Session,
    follow_up: FollowUp,
    by: Caseworker,
    status: str,
    text: str | None,
    now: datetime | None = None,
) -> FollowUpReply:
    """Record the team's answer, to be delivered to the child (signed with the first
    name of `by`). `status` is one of REPLY_STATUSES; "kan_niet" needs `text`, a reason
    in words the child understands. Also counts as opening the item."""
    if status not in REPLY_STATUSES:
        raise LoopError(f"status must be one of {', '.join(REPLY_STATUSES)}")
    text = (text or "").strip() or None
    if status == "kan_niet" and text is None:
        raise LoopError("'kan_niet' needs a reason in words the child understands")
    if text is not None and len(text) > 2000:
        raise LoopError("the text for the child is longer than 2000 characters")
    now = now or utcnow()
    mark_opened(session=session, follow_up=follow_up, by=by, now=now)
    reply = FollowUpReply(
        follow_up_id=follow_up.id, status=status, text=text, caseworker_id=by.id,
        signed_as=by.first_name, created_at=now,
    )
    session.add(reply)
    follow_up.status = status
    if follow_up.answered_at is None:
        follow_up.answered_at = now
        follow_up.answered_by_id = by.id
    session.flush()
    return reply


def is_open_overdue(follow_up: FollowUp, now: datetime | None = None) -> bool:
    return follow_up.opened_at is None and (now or utcnow()) > follow_up.open_due


def is_answer_overdue(follow_up: FollowUp, now: datetime | None = None) -> bool:
    return follow_up.answered_at is None and (now or utcnow()) > follow_up.answer_due


def overdue_follow_ups(*, session: Session, now: datetime | None = None) -> list[FollowUp]:
    """Unanswered follow-ups past their answer deadline (open children only)."""
    now = now or utcnow()
    return list(session.scalars(
        select(FollowUp).join(Child, Child.id == FollowUp.child_id).where(
            FollowUp.answered_at.is_(None), FollowUp.answer_due < now,
            Child.closed_at.is_(None),
        ).order_by(FollowUp.answer_due)
    ))


def late_to_open(*, session: Session, now: datetime | None = None) -> list[FollowUp]:
    """Follow-ups nobody opened before their open deadline (open children only)."""
    now = now or utcnow()
    return list(session.scalars(
        select(FollowUp).join(Child, Child.id == FollowUp.child_id).where(
            FollowUp.opened_at.is_(None), FollowUp.open_due < now, Child.closed_at.is_(None),
        ).order_by(FollowUp.open_due)
    ))


def waiting_follow_ups(*, session: Session, child_ids: Iterable[int]) -> list[FollowUp]:
    """Unanswered follow-ups of these children, soonest deadline first (the caseload)."""
    ids = list(child_ids)
    if not ids:
        return []
    return list(session.scalars(
        select(FollowUp).where(FollowUp.child_id.in_(ids), FollowUp.answered_at.is_(None))
        .order_by(FollowUp.answer_due)
    ))


# --- deliveries to the child -----------------------------------------------------------


def pending_replies(*, session: Session, child_id: int) -> list[FollowUpReply]:
    """Replies not yet shown to the child, oldest first."""
    return list(session.scalars(
        select(FollowUpReply).join(FollowUp).where(
            FollowUp.child_id == child_id, FollowUpReply.delivered_at.is_(None)
        ).order_by(FollowUpReply.id)
    ))


def has_pending_for_sender(*, session: Session, sender_hash: str) -> bool:
    """Cheap check run on every chat message: does this chat's child have a reply
    waiting? One indexed query."""
    query = (
        select(FollowUpReply.id)
        .join(FollowUp, FollowUp.id == FollowUpReply.follow_up_id)
        .join(ConversationSession, ConversationSession.child_id == FollowUp.child_id)
        .where(ConversationSession.sender_hash == sender_hash,
               FollowUpReply.delivered_at.is_(None))
        .limit(1)
    )
    return session.scalar(query) is not None


@dataclass(frozen=True)
class Delivery:
    """One answer as the chat shows it: who signed it, its status, the words for the
    child, and what it answers ("wish" or "message", with the child's own words)."""

    reply_id: int
    status: str
    text: str | None
    signed_as: str
    kind: str
    words: str

    def as_json(self) -> dict[str, object]:
        return {"reply_id": self.reply_id, "status": self.status, "text": self.text,
                "signed_as": self.signed_as, "kind": self.kind, "words": self.words}


def pending_deliveries(*, session: Session, sender_hash: str, limit: int = 5) -> list[Delivery]:
    """What this chat's child has not seen yet (oldest first, at most `limit` at once).
    Not marked: the channel acknowledges what it showed (`acknowledge`)."""
    query = (
        select(FollowUpReply)
        .join(FollowUp, FollowUp.id == FollowUpReply.follow_up_id)
        .join(ConversationSession, ConversationSession.child_id == FollowUp.child_id)
        .where(ConversationSession.sender_hash == sender_hash,
               FollowUpReply.delivered_at.is_(None))
        .order_by(FollowUpReply.id)
        .limit(limit)
    )
    return [
        Delivery(reply_id=reply.id, status=reply.status, text=reply.text,
                 signed_as=reply.signed_as, kind=reply.follow_up.kind,
                 words=item_text(reply.follow_up))
        for reply in session.scalars(query)
    ]


def acknowledge(
    *, session: Session, sender_hash: str, reply_ids: Iterable[int], now: datetime | None = None
) -> list[int]:
    """Mark these replies delivered, only if they belong to this chat's child and were
    not delivered before (so two channels cannot both count one). Returns the ids marked."""
    ids = list(reply_ids)
    if not ids:
        return []
    conversation = session.scalar(
        select(ConversationSession).where(ConversationSession.sender_hash == sender_hash)
    )
    if conversation is None:
        return []
    own = select(FollowUp.id).where(FollowUp.child_id == conversation.child_id)
    when = now or utcnow()
    marked = []
    for reply_id in ids:
        result = session.execute(
            update(FollowUpReply)
            .where(FollowUpReply.id == reply_id, FollowUpReply.delivered_at.is_(None),
                   FollowUpReply.follow_up_id.in_(own))
            .values(delivered_at=when)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            marked.append(reply_id)
    session.flush()
    return marked


def mark_delivered(
    *, session: Session, replies: Iterable[FollowUpReply], now: datetime | None = None
) -> None:
    when = now or utcnow()
    for reply in replies:
        reply.delivered_at = when
    session.flush()


def sessions_with_pending(*, session: Session, channel: str) -> list[ConversationSession]:
    """Chats of `channel` that can be reached unasked (a stored `chat_address`) and
    whose child has a reply waiting: the Telegram bridge delivers to these at once."""
    pending_children = (
        select(FollowUp.child_id).join(FollowUpReply)
        .where(FollowUpReply.delivered_at.is_(None))
    )
    return list(session.scalars(
        select(ConversationSession).where(
            ConversationSession.channel == channel,
            ConversationSession.chat_address.is_not(None),
            ConversationSession.child_id.in_(pending_children),
        ).order_by(ConversationSession.id)
    ))


def set_chat_address(
    *, session: Session, conversation: ConversationSession, address: str
) -> None:
    if conversation.chat_address != address:
        conversation.chat_address = address
        session.flush()


def item_text(follow_up: FollowUp) -> str:
    """The child's own words this follow-up answers (for the portal; not for e-mail)."""
    if follow_up.wish is not None:
        return follow_up.wish.text
    if follow_up.answer is not None:
        return follow_up.answer.text
    if follow_up.message is not None:
        message = follow_up.message
        return ": ".join(part for part in (message.feeling, message.text) if part)
    return ""


# --- the child's messages and reactions --------------------------------------------------


def add_child_message(
    *,
    session: Session,
    child: Child,
    text: str | None,
    session_id: int | None = None,
    channel: str | None = None,
    deadlines: Deadlines = Deadlines(),
    now: datetime | None = None,
    kind: str = "message",
    feeling: str | None = None,
    checkin_id: int | None = None,
    part: str | None = None,
) -> ChildMessage:
    """A message the child wrote to their caseworker (at any time), a feeling they
    chose to share (kind "feeling": the emoji's name, the "why" in `text` if given), or
    an answer to a check-in (kind "checkin", with `checkin_id` and `part`). Gets a
    follow-up with deadlines, and a "new_message" notice for the caseworker or the
    team leads."""
    if kind not in MESSAGE_KINDS:
        raise LoopError(f"kind must be one of {', '.join(MESSAGE_KINDS)}")
    text = (text or "").strip() or None
    if text is None and not (kind == "feeling" and feeling):
        raise LoopError("an empty message")
    now = now or utcnow()
    message = ChildMessage(child_id=child.id, session_id=session_id, kind=kind,
                           text=text, channel=channel, created_at=now, feeling=feeling,
                           checkin_id=checkin_id, part=part)
    session.add(message)
    session.flush()
    _new_follow_up(session, child_id=child.id, deadlines=deadlines, now=now,
                   message_id=message.id)
    queue_for_child(session=session, child=child, kind="new_message",
                    key=f"new_message:{message.id}", now=now)
    return message


def add_reaction(
    *,
    session: Session,
    child: Child,
    reaction: str,
    reply_id: int | None,
    text: str | None = None,
    session_id: int | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> ChildMessage:
    """The child's reaction to an answer: thanks | disagree | own_words (with `text`).
    A reaction with words or a disagreement notifies the caseworker."""
    if reaction not in REACTIONS:
        raise LoopError(f"reaction must be one of {', '.join(REACTIONS)}")
    text = (text or "").strip() or None
    if reaction == "own_words" and text is None:
        raise LoopError("own_words needs the child's words")
    if reply_id is not None:
        reply = session.get(FollowUpReply, reply_id)
        if reply is None or reply.follow_up.child_id != child.id:
            reply_id = None
    now = now or utcnow()
    message = ChildMessage(child_id=child.id, session_id=session_id, kind="reaction",
                           reaction=reaction, reply_id=reply_id, text=text,
                           channel=channel, created_at=now)
    session.add(message)
    session.flush()
    if reaction != "thanks":
        queue_for_child(session=session, child=child, kind="new_message",
                        key=f"new_message:{message.id}", now=now)
    return message


def last_delivered_reply(*, session: Session, child_id: int) -> FollowUpReply | None:
    """The answer the child most recently saw: what a reaction refers to."""
    return session.scalar(
        select(FollowUpReply).join(FollowUp).where(
            FollowUp.child_id == child_id, FollowUpReply.delivered_at.is_not(None)
        ).order_by(FollowUpReply.delivered_at.desc(), FollowUpReply.id.desc()).limit(1)
    )


def has_reaction(*, session: Session, reply_id: int, reaction: str | None = None) -> bool:
    """Whether the child reacted to this reply (with this reaction, if given)."""
    query = select(ChildMessage.id).where(ChildMessage.reply_id == reply_id)
    if reaction is not None:
        query = query.where(ChildMessage.reaction == reaction)
    return session.scalar(query.limit(1)) is not None


def messages_for_child(*, session: Session, child_id: int) -> list[ChildMessage]:
    """The child's messages and reactions, oldest first."""
    return list(session.scalars(
        select(ChildMessage).where(ChildMessage.child_id == child_id).order_by(ChildMessage.id)
    ))


def mark_messages_read(
    *, session: Session, child_id: int, by: Caseworker, now: datetime | None = None
) -> int:
    """Mark all of a child's unread messages and reactions read; returns how many."""
    when = now or utcnow()
    unread = session.scalars(select(ChildMessage).where(
        ChildMessage.child_id == child_id, ChildMessage.read_at.is_(None)
    ))
    count = 0
    for message in unread:
        message.read_at = when
        message.read_by_id = by.id
        count += 1
    session.flush()
    return count


def mark_summary_read(
    *, session: Session, summary: SharedSummary, now: datetime | None = None
) -> None:
    if summary.read_at is None:
        summary.read_at = now or utcnow()
        session.flush()


def unread_counts(*, session: Session, child_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per child: (unread shared summaries, unread messages and reactions)."""
    ids = list(child_ids)
    result = {child_id: (0, 0) for child_id in ids}
    if not ids:
        return result
    summaries = dict(session.execute(
        select(SharedSummary.child_id, func.count()).where(
            SharedSummary.child_id.in_(ids), SharedSummary.read_at.is_(None)
        ).group_by(SharedSummary.child_id)
    ).tuples().all())
    messages = dict(session.execute(
        select(ChildMessage.child_id, func.count()).where(
            ChildMessage.child_id.in_(ids), ChildMessage.read_at.is_(None)
        ).group_by(ChildMessage.child_id)
    ).tuples().all())
    for child_id in ids:
        result[child_id] = (summaries.get(child_id, 0), messages.get(child_id, 0))
    return result


# --- caseloads, the team inbox and assignments ----------------------------------------------


def children_of(*, session: Session, caseworker: Caseworker) -> list[Child]:
    """A caseworker's own children (open cases first, then by id)."""
    return list(session.scalars(
        select(Child).where(Child.caseworker_id == caseworker.id)
        .order_by(Child.closed_at.is_not(None), Child.id)
    ))


def team_children(*, session: Session, team: str | None) -> list[Child]:
    """A team's children: the child's own team, or the team of its caseworker."""
    query = select(Child).outerjoin(Caseworker, Caseworker.id == Child.caseworker_id)
    if team is None:
        query = query.where(Child.team.is_(None), Caseworker.team.is_(None))
    else:
        query = query.where(or_(Child.team == team, Caseworker.team == team))
    return list(session.scalars(query.order_by(Child.closed_at.is_not(None), Child.id)))


def team_inbox(*, session: Session, team: str | None) -> list[Child]:
    """Children without a caseworker whose items wait for the team lead to assign them
    (team None: children without a team too)."""
    query = select(Child).where(Child.caseworker_id.is_(None), Child.closed_at.is_(None))
    if team is not None:
        query = query.where(or_(Child.team == team, Child.team.is_(None)))
    return list(session.scalars(query.order_by(Child.id)))


def assign_child(
    *,
    session: Session,
    child: Child,
    caseworker: Caseworker | None,
    by: Caseworker | None,
    now: datetime | None = None,
) -> ChildAssignment:
    """Move a child to `caseworker` (None: back to the team inbox). Closes the current
    assignment row and opens a new one, so the history is kept; unread summaries go
    along to the new caseworker. The child's team follows the caseworker's team."""
    now = now or utcnow()
    current = session.scalar(select(ChildAssignment).where(
        ChildAssignment.child_id == child.id, ChildAssignment.ended_at.is_(None)
    ))
    if current is not None:
        current.ended_at = now
    child.caseworker_id = caseworker.id if caseworker is not None else None
    child.caseworker = caseworker
    if caseworker is not None and caseworker.team is not None:
        child.team = caseworker.team
    row = ChildAssignment(
        child_id=child.id, caseworker_id=child.caseworker_id, team=child.team,
        assigned_by_id=by.id if by is not None else None, started_at=now,
    )
    session.add(row)
    for summary in session.scalars(select(SharedSummary).where(
        SharedSummary.child_id == child.id, SharedSummary.read_at.is_(None)
    )):
        summary.caseworker_id = child.caseworker_id
    session.flush()
    return row


def assignment_history(*, session: Session, child_id: int) -> list[ChildAssignment]:
    """Oldest first; the last row with `ended_at` None is the current one."""
    return list(session.scalars(
        select(ChildAssignment).where(ChildAssignment.child_id == child_id)
        .order_by(ChildAssignment.started_at, ChildAssignment.id)
    ))


# --- e-mail notices ---------------------------------------------------------------------------


def recipients_for_child(*, session: Session, child: Child) -> list[Caseworker]:
    """Who hears about a child's new items: the caseworker, or else the team leads
    (the team inbox)."""
    if child.caseworker is not None and child.caseworker.active:
        return [child.caseworker]
    return accounts.team_leads(session=session, team=child.team)


def queue_notice(
    *, session: Session, caseworker: Caseworker, kind: str, key: str,
    now: datetime | None = None,
) -> Notice | None:
    """Queue one e-mail notice; a notice with the same key (per recipient) is queued
    only once. Returns None when it already existed."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"kind must be one of {NOTICE_KINDS}")
    full_key = f"{key}:to:{caseworker.id}"[:100]
    if session.scalar(select(Notice.id).where(Notice.key == full_key)) is not None:
        return None
    notice = Notice(caseworker_id=caseworker.id, kind=kind, key=full_key,
                    created_at=now or utcnow(), attempts=0)
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None
    return notice


def queue_for_child(
    *, session: Session, child: Child, kind: str, key: str, now: datetime | None = None
) -> list[Notice]:
    notices = []
    for caseworker in recipients_for_child(session=session, child=child):
        notice = queue_notice(session=session, caseworker=caseworker, kind=kind, key=key,
                              now=now)
        if notice is not None:
            notices.append(notice)
    return notices


def unsent_notices(*, session: Session, max_attempts: int = 5) -> list[Notice]:
    return list(session.scalars(
        select(Notice).where(Notice.sent_at.is_(None), Notice.attempts < max_attempts)
        .order_by(Notice.id)
    ))


# --- check-ins before a meeting (issue 11) ------------------------------------------------


def plan_checkin(
    *, session: Session, child: Child, due_on: date, about: str | None = None,
    planned_by: str | None = None,
) -> CheckIn:
    checkin = CheckIn(child_id=child.id, due_on=due_on, about=(about or "").strip() or None,
                      planned_by=planned_by)
    session.add(checkin)
    session.flush()
    return checkin


def checkins(*, session: Session, child_id: int | None = None) -> list[CheckIn]:
    """Planned check-ins, by date (of one child, or all)."""
    query = select(CheckIn).order_by(CheckIn.due_on, CheckIn.id)
    if child_id is not None:
        query = query.where(CheckIn.child_id == child_id)
    return list(session.scalars(query))


def due_checkin(*, session: Session, child_id: int, today: date) -> CheckIn | None:
    """The oldest check-in of this child that is due and not done."""
    return session.scalar(
        select(CheckIn).where(CheckIn.child_id == child_id, CheckIn.due_on <= today,
                              CheckIn.done_at.is_(None))
        .order_by(CheckIn.due_on, CheckIn.id).limit(1)
    )


def finish_checkin(*, session: Session, checkin_id: int, now: datetime | None = None) -> None:
    checkin = session.get(CheckIn, checkin_id)
    if checkin is not None and checkin.done_at is None:
        checkin.done_at = now or utcnow()
        session.flush()


def checkins_to_invite(
    *, session: Session, channel: str, today: date
) -> list[tuple[CheckIn, ConversationSession]]:
    """Due check-ins not invited to yet, with the reachable chat of `channel` of their
    child (linked, with a stored `chat_address`)."""
    rows = session.execute(
        select(CheckIn, ConversationSession)
        .join(ConversationSession, ConversationSession.child_id == CheckIn.child_id)
        .where(CheckIn.due_on <= today, CheckIn.invited_at.is_(None),
               CheckIn.done_at.is_(None), ConversationSession.channel == channel,
               ConversationSession.chat_address.is_not(None))
        .order_by(CheckIn.id, ConversationSession.id)
    )
    seen: set[int] = set()
    found = []
    for checkin, conversation in rows:
        if checkin.id not in seen:
            seen.add(checkin.id)
            found.append((checkin, conversation))
    return found


def mark_invited(*, session: Session, checkin_id: int, now: datetime | None = None) -> bool:
    """Claim the invitation (once, also across processes): True for the one caller
    that marked it."""
    result = session.execute(
        update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.invited_at.is_(None))
        .values(invited_at=now or utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def unmark_invited(*, session: Session, checkin_id: int) -> None:
    """Give back a claimed invitation that could not be sent, so it is sent later."""
    session.execute(
        update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.done_at.is_(None))
        .values(invited_at=None)
    )
