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
    held: list[int] = []
    for alert_id in pending:
        if await notify.deliver(
            settings, sessions, alert_id, first_attempt=False, senders=senders, now=now
        ):
            delivered += 1
        else:
            held.append(alert_id)
    # Alerts from unlinked chats over the hourly cap: one digest for all of them.
    with sessions.begin() as session:
        unlinked_held = [
            alert_id for alert_id in held
            if alerts.get_alert(session=session, alert_id=alert_id).child_id is None
        ]
    if len(unlinked_held) > 0 and await notify.deliver_digest(
        settings, sessions, unlinked_held, senders=senders, now=now
    ):
        delivered += len(unlinked_held)
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
