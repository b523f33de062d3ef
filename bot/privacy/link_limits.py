"""Invite codes cannot be guessed, and nobody can lock every child out.

An 8-character code from a 31-letter alphabet has 31^8 (about 8.5 * 10^11) values, so
guessing needs millions of tries. Failed attempts (unknown, expired or used codes) are
counted per *subject*: the chat (its pseudonymous sender), and where the channel knows
more, the Telegram user (`subject_for_telegram_user`) or the web client's IP address
(`subject_for_ip`; the web app passes it). A subject that failed `per_chat` times
must wait `window` after its last failure; every further `per_chat` failures double
the wait, up to `max_backoff` (failures older than that are forgotten). While it
waits, a correct code is refused too: otherwise waiting would not slow guessing down.

When all chats together fail `overall` times within `window` (guessing spread over
many chats), subjects that failed at least once in the window are refused; a child
who types their code right the first time still gets in. So a flood of wrong codes
slows the flood down, not the children (logged as a warning for the operators).

Counted in the app database (`link_attempt`), not in memory, so that a restart of the
action server does not reset the counters and several processes share them.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.pseudonym import keyed_hash
from bot.settings import Settings
from bot.storage.models import LinkAttempt, utcnow

log = logging.getLogger("mijnstem.privacy")

# `link_attempt.kind`: the chat itself, or an extra subject a channel passed along.
CHAT = "chat"
EXTRA = "subject"
# Key of the subject in a REST message's metadata (set by the Telegram bridge and the
# web app on loopback; the actions read it from the tracker's latest message).
METADATA_KEY = "mijnstem_link_subject"


class Refusal(enum.Enum):
    CHAT = "chat"  # this chat, user or address failed too often: wait
    OVERALL = "overall"  # too many failures across all chats, and this one failed too


@dataclass(frozen=True)
class LinkLimits:
    per_chat: int
    overall: int
    window: timedelta
    max_backoff: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkLimits:
        return cls(
            per_chat=settings.link_failures_per_chat,
            overall=settings.link_failures_overall,
            window=timedelta(minutes=settings.link_window_minutes),
            max_backoff=timedelta(minutes=max(settings.link_max_backoff_minutes,
                                              settings.link_window_minutes)),
        )

    def wait_after(self, failures: int) -> timedelta:
        """How long a subject with this many recent failures waits after the last."""
        if failures < self.per_chat:
            return timedelta(0)
        doublings = failures // self.per_chat - 1
        return min(self.window * (2 ** min(doublings, 30)), self.max_backoff)


def subject_for_telegram_user(secret: str, user_id: int) -> str:
    """The counting key of a Telegram user (a keyed hash, never the id itself)."""
    return keyed_hash(secret, f"link-subject:tg-user:{user_id}")


def subject_for_ip(secret: str, address: str) -> str:
    """The counting key of a web client's IP address (for the web app: pass it to
    Rasa in the message metadata under METADATA_KEY, or call `refusal` and
    `record_failure` with it directly)."""
    return keyed_hash(secret, f"link-subject:ip:{address}")


def _subject_wait(session: Session, key: str, limits: LinkLimits, now: datetime) -> bool:
    rows = session.execute(
        select(func.count(LinkAttempt.id), func.max(LinkAttempt.created_at)).where(
            LinkAttempt.sender_hash == key, LinkAttempt.created_at > now - limits.max_backoff
        )
    ).one()
    failures, last = int(rows[0] or 0), rows[1]
    if not failures or last is None:
        return False
    if last.tzinfo is None:  # SQLite aggregates lose the type decorator
        from datetime import timezone

        last = last.replace(tzinfo=timezone.utc)
    return now < last + limits.wait_after(failures)


def refusal(
    *,
    session: Session,
    sender_hash: str,
    limits: LinkLimits,
    now: datetime | None = None,
    subjects: Sequence[str] = (),
) -> Refusal | None:
    """Whether a link attempt from this chat (and these extra subjects) must be
    refused right now."""
    now = now or utcnow()
    keys = [sender_hash, *(s for s in subjects if s)]
    if any(_subject_wait(session, key, limits, now) for key in keys):
        return Refusal.CHAT
    since = now - limits.window
    total = session.scalar(
        select(func.count(LinkAttempt.id)).where(
            LinkAttempt.created_at > since, LinkAttempt.kind == CHAT)
    ) or 0
    if total >= limits.overall:
        failed_before = session.scalar(
            select(func.count(LinkAttempt.id)).where(
                LinkAttempt.created_at > since, LinkAttempt.sender_hash.in_(keys))
        ) or 0
        log.warning("invite codes: %d failed attempts within %s; refusing chats that failed",
                    total, limits.window)
        if failed_before:
            return Refusal.OVERALL
    return None


def record_failure(
    *,
    session: Session,
    sender_hash: str,
    now: datetime | None = None,
    subjects: Sequence[str] = (),
) -> None:
    moment = now or utcnow()
    session.add(LinkAttempt(sender_hash=sender_hash, kind=CHAT, created_at=moment))
    for subject in subjects:
        if subject and subject != sender_hash:
            session.add(LinkAttempt(sender_hash=subject, kind=EXTRA, created_at=moment))
    session.flush()
