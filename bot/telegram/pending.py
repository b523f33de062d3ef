"""Messages kept while Rasa or the action server is down (table `pending_message`).

Repository functions in the style of bot.storage.repo: each takes the session as a
keyword argument and the caller owns the transaction. Messages of one chat are handed
to Rasa in the order they came in (by id).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.storage.models import PendingMessage

CHANNEL = "tg"


@dataclass(frozen=True)
class Pending:
    id: int
    sender: str
    chat_id: int
    text: str
    attempts: int


class QueueFull(RuntimeError):
    """The chat, or the queue as a whole, holds as many kept messages as allowed."""


def add(
    *,
    session: Session,
    sender: str,
    chat_id: int,
    text: str,
    per_chat: int | None = None,
    total: int | None = None,
) -> int:
    """Keep a message; QueueFull when `per_chat` (this chat) or `total` (all chats)
    messages are waiting already, so a flood while Rasa is down cannot fill the disk."""
    if per_chat is not None:
        waiting = session.scalar(
            select(func.count()).select_from(PendingMessage)
            .where(PendingMessage.channel == CHANNEL, PendingMessage.sender == sender)
        ) or 0
        if waiting >= per_chat:
            raise QueueFull("this chat has too many kept messages")
    if total is not None and count(session=session) >= total:
        raise QueueFull("too many kept messages")
    row = PendingMessage(channel=CHANNEL, sender=sender, chat=str(chat_id), text=text,
                         attempts=0)
    session.add(row)
    session.flush()
    return row.id


def has_pending(*, session: Session, sender: str) -> bool:
    query = select(PendingMessage.id).where(
        PendingMessage.channel == CHANNEL, PendingMessage.sender == sender
    )
    return session.scalar(query.limit(1)) is not None


def senders(*, session: Session) -> list[str]:
    """Chats with kept messages, the one waiting longest first."""
    query = (
        select(PendingMessage.sender)
        .where(PendingMessage.channel == CHANNEL)
        .group_by(PendingMessage.sender)
        .order_by(func.min(PendingMessage.id))
    )
    return list(session.scalars(query))


def oldest(*, session: Session, sender: str) -> Pending | None:
    row = session.scalar(
        select(PendingMessage)
        .where(PendingMessage.channel == CHANNEL, PendingMessage.sender == sender)
        .order_by(PendingMessage.id)
        .limit(1)
    )
    if row is None:
        return None
    return Pending(row.id, row.sender, int(row.chat), row.text, row.attempts)


def remove(*, session: Session, message_id: int) -> None:
    session.execute(delete(PendingMessage).where(PendingMessage.id == message_id))


def count_failure(*, session: Session, message_id: int) -> int:
    row = session.get(PendingMessage, message_id)
    if row is None:
        return 0
    row.attempts += 1
    session.flush()
    return row.attempts


def count(*, session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(PendingMessage)
            .where(PendingMessage.channel == CHANNEL)
        ) or 0
    )
