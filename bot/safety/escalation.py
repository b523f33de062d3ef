"""The worker's safeguarding job (`python -m bot worker`, every 30 s): retry alerts whose
notification failed (e.g. the mail server was down), and escalate alerts nobody
acknowledged within ALERT_ESCALATION_MINUTES to the team lead."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.safety import alerts, notify
from bot.settings import Settings
from bot.storage.models import utcnow

log = logging.getLogger("mijnstem.safety")

# The action server sends at once; the worker only picks up what is older than this, so
# both never send the same alert at the same time.
RETRY_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Outcome:
    retried: int = 0
    delivered: int = 0
    escalated: int = 0


async def run_once_async(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    now: datetime | None = None,
    senders: notify.Senders = notify.DEFAULT_SENDERS,
) -> Outcome:
    now = now or utcnow()
    with sessions.begin() as session:
        pending = [
            a.id for a in alerts.unnotified(session=session, created_before=now - RETRY_AFTER)
        ]
        overdue = [
            a.id for a in alerts.due_for_escalation(
                session=session,
                created_before=now - timedelta(minutes=settings.alert_escalation_minutes),
            )
        ]
    delivered = 0
    for alert_id in pending:
        if await notify.deliver(
            settings, sessions, alert_id, first_attempt=False, senders=senders, now=now
        ):
            delivered += 1
    escalated = 0
    for alert_id in overdue:
        if await notify.escalate(settings, sessions, alert_id, senders=senders, now=now):
            escalated += 1
    if pending or overdue:
        log.info("alerts: %d/%d re-sent, %d/%d escalated",
                 delivered, len(pending), escalated, len(overdue))
    return Outcome(retried=len(pending), delivered=delivered, escalated=escalated)


def run_once(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Entry point for bot.worker (synchronous)."""
    asyncio.run(run_once_async(settings, sessions))
