"""Invite codes cannot be guessed: failed `/start CODE` attempts are limited per chat
and in total.

An 8-character code from a 31-letter alphabet has 31^8 (about 8.5 * 10^11) values, so
guessing needs millions of tries; a chat that fails `link_failures_per_chat` times
within `link_window_minutes` is refused until its oldest failure leaves the window,
and when all chats together fail `link_failures_overall` times in the window every
attempt is refused for a while (an attack spread over many chats; it also shuts out
real children briefly, so it is logged as a warning for the operators).
While a chat is refused, a correct code is refused too: otherwise refusing would not
slow guessing down.

Counted in the app database (`link_attempt`), not in memory, so that a restart of the
action server does not reset the counters and several action servers share them.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.storage.models import LinkAttempt, utcnow

log = logging.getLogger("mijnstem.privacy")


class Refusal(enum.Enum):
    CHAT = "chat"  # this chat failed too often
    OVERALL = "overall"  # too many failures across all chats


@dataclass(frozen=True)
class LinkLimits:
    per_chat: int
    overall: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkLimits:
        return cls(
            per_chat=settings.link_failures_per_chat,
            overall=settings.link_failures_overall,
            window=timedelta(minutes=settings.link_window_minutes),
        )


def refusal(
    *, session: Session, sender_hash: str, limits: LinkLimits, now: datetime | None = None
) -> Refusal | None:
    """Whether a link attempt from this chat must be refused right now."""
    since = (now or utcnow()) - limits.window
    recent = select(func.count(LinkAttempt.id)).where(LinkAttempt.created_at > since)
    per_chat = session.scalar(recent.where(LinkAttempt.sender_hash == sender_hash)) or 0
    if per_chat >= limits.per_chat:
        return Refusal.CHAT
    if (session.scalar(recent) or 0) >= limits.overall:
        log.warning("invite codes: %d failed attempts within %s; refusing all attempts",
                    limits.overall, limits.window)
        return Refusal.OVERALL
    return None


def record_failure(*, session: Session, sender_hash: str, now: datetime | None = None) -> None:
    session.add(LinkAttempt(sender_hash=sender_hash, created_at=now or utcnow()))
    session.flush()
