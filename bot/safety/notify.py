"""Telling people about a safeguarding alert: the caseworker (Telegram and e-mail), the
safeguarding contact for chats without a caseworker, the team lead on escalation.

What goes out: the kind of alarm, which child (number, first name or pseudonym, age),
when and on which channel, and how to acknowledge. The child's own words stay in Mijn
Stem (`python -m bot alerts` shows the short stored excerpt), never in e-mail or
Telegram. The Dutch wording is in bot/templates/notify/safety_*.txt.

Alarms from chats not linked to a child (anyone can open such a chat) are capped at
`unlinked_alerts_per_hour` notifications; the rest are held, and the worker sends them
as one digest (`deliver_digest`), so a flood cannot bury the team in e-mail.

`notified_at` is set once the e-mail went out; e-mail is the channel of record, and the
worker (`bot.safety.escalation`) retries it while it fails. Telegram is the fast extra,
sent on the first attempt only so a retry never sends it twice. Without SMTP configured,
Telegram alone counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.notify import email, telegram, templates
from bot.safety import alerts
from bot.settings import Settings
from bot.storage.models import utcnow

log = logging.getLogger("mijnstem.safety")

EmailSender = Callable[[Settings, list[str], str, str], Awaitable[None]]
TelegramSender = Callable[[Settings, str, str], Awaitable[None]]


@dataclass(frozen=True)
class Senders:
    """The two clients, injectable for tests."""

    send_email: EmailSender = email.send_email
    send_telegram: TelegramSender = telegram.send_message


DEFAULT_SENDERS = Senders()


def alert_recipients(settings: Settings, alert: alerts.AlertView) -> list[str]:
    """The caseworker; for a chat without one, the safeguarding contact (or team lead)."""
    if alert.caseworker_email:
        return [alert.caseworker_email]
    contact = settings.safeguarding_contact_email or settings.team_lead_email
    return [contact] if contact else []


def escalation_recipients(settings: Settings) -> list[str]:
    lead = settings.team_lead_email or settings.safeguarding_contact_email
    return [lead] if lead else []


def _render(name: str, settings: Settings, alert: alerts.AlertView, recipient: str) -> str:
    return templates.render(
        f"notify/{name}", alert=alert, recipient=recipient,
        minutes=settings.alert_escalation_minutes,
    )


async def deliver(
    settings: Settings,
    sessions: sessionmaker[Session],
    alert_id: int,
    *,
    first_attempt: bool = True,
    senders: Senders = DEFAULT_SENDERS,
    now: datetime | None = None,
) -> bool:
    """Send the alert; True when it reached someone (and `notified_at` is set). False
    also when it is held for the digest (an unlinked chat over the hourly cap)."""
    moment = now or utcnow()
    with sessions.begin() as session:
        alert = alerts.get_alert(session=session, alert_id=alert_id)
        if alert.notified_at is not None:
            return True
        info = alerts.view(session=session, alert=alert)
        if info.child_id is None and alerts.unlinked_notified_since(
            session=session, since=moment - timedelta(hours=1)
        ) >= settings.unlinked_alerts_per_hour:
            log.warning("alert %s from an unlinked chat held for the digest (hourly cap)",
                        alert_id)
            return False
    to = alert_recipients(settings, info)
    by_email = email.is_configured(settings) and bool(to)
    chat = info.caseworker_chat if settings.telegram_bot_token else None
    sent_email = sent_telegram = False
    if chat and (first_attempt or not by_email):
        try:
            text = _render("safety_alert_telegram.txt", settings, info, info.caseworker_email or "")
            await senders.send_telegram(settings, chat, text)
            sent_telegram = True
        except Exception as exc:  # noqa: BLE001 - a failed channel must not stop the other
            log.warning("alert %s: Telegram not sent (%s)", alert_id, type(exc).__name__)
    if by_email:
        try:
            subject = _render("safety_alert_subject.txt", settings, info, to[0])
            body = _render("safety_alert_email.txt", settings, info, to[0])
            await senders.send_email(settings, to, subject, body)
            sent_email = True
        except Exception as exc:  # noqa: BLE001
            log.warning("alert %s: e-mail not sent, will retry (%s)", alert_id, exc)
    elif not to:
        log.error("alert %s: no e-mail recipient (set SAFEGUARDING_CONTACT_EMAIL)", alert_id)
    else:
        log.error("alert %s: SMTP_HOST is not set, alerts cannot be e-mailed", alert_id)
    delivered = sent_email or (not by_email and sent_telegram)
    if delivered:
        with sessions.begin() as session:
            stored = alerts.get_alert(session=session, alert_id=alert_id)
            if stored.notified_at is None:
                stored.notified_at = now or utcnow()
    return delivered


async def deliver_digest(
    settings: Settings,
    sessions: sessionmaker[Session],
    alert_ids: list[int],
    *,
    senders: Senders = DEFAULT_SENDERS,
    now: datetime | None = None,
) -> bool:
    """One e-mail for many held alerts from unlinked chats (numbers only)."""
    contact = settings.safeguarding_contact_email or settings.team_lead_email
    if not alert_ids or not contact or not email.is_configured(settings):
        return False
    try:
        subject = templates.render("notify/safety_digest_subject.txt", count=len(alert_ids))
        body = templates.render("notify/safety_digest_email.txt", alert_ids=alert_ids,
                                recipient=contact)
        await senders.send_email(settings, [contact], subject, body)
    except Exception as exc:  # noqa: BLE001
        log.warning("alert digest not sent, will retry (%s)", type(exc).__name__)
        return False
    with sessions.begin() as session:
        for alert_id in alert_ids:
            stored = alerts.get_alert(session=session, alert_id=alert_id)
            if stored.notified_at is None:
                stored.notified_at = now or utcnow()
    return True


async def escalate(
    settings: Settings,
    sessions: sessionmaker[Session],
    alert_id: int,
    *,
    senders: Senders = DEFAULT_SENDERS,
    now: datetime | None = None,
) -> bool:
    """E-mail the team lead about an alert nobody acknowledged; sets `escalated_at`."""
    to = escalation_recipients(settings)
    if not to or not email.is_configured(settings):
        log.error("alert %s: cannot escalate (set TEAM_LEAD_EMAIL and SMTP_HOST)", alert_id)
        return False
    with sessions.begin() as session:
        alert = alerts.get_alert(session=session, alert_id=alert_id)
        if alert.acknowledged_at is not None or alert.escalated_at is not None:
            return True
        info = alerts.view(session=session, alert=alert)
    try:
        subject = _render("safety_escalation_subject.txt", settings, info, to[0])
        body = _render("safety_escalation_email.txt", settings, info, to[0])
        await senders.send_email(settings, to, subject, body)
    except Exception as exc:  # noqa: BLE001
        log.warning("alert %s: escalation not sent, will retry (%s)", alert_id, exc)
        return False
    with sessions.begin() as session:
        stored = alerts.get_alert(session=session, alert_id=alert_id)
        stored.escalated_at = now or utcnow()
    return True


# --- from the action server: never make the child's reply wait -------------------------

_background: set[asyncio.Task[bool]] = set()


def run_in_background(work: Coroutine[Any, Any, bool]) -> asyncio.Task[bool] | None:
    """Run `work` on the running event loop without waiting for it (errors are logged)."""
    try:
        task = asyncio.get_running_loop().create_task(_quietly(work))
    except RuntimeError:  # no event loop: the worker will send it
        work.close()
        return None
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


def deliver_in_background(
    settings: Settings, sessions: sessionmaker[Session], alert_id: int
) -> asyncio.Task[bool] | None:
    """Start delivering now, without waiting; the worker retries what fails."""
    return run_in_background(deliver(settings, sessions, alert_id))


async def _quietly(work: Awaitable[bool]) -> bool:
    try:
        return await work
    except Exception:  # a notification must never take the action server down
        log.exception("alert delivery failed")
        return False


async def wait_for_background() -> None:
    """Wait for deliveries started here (tests; a clean shutdown)."""
    while _background:
        await asyncio.gather(*list(_background), return_exceptions=True)


async def deliver_unstored(
    settings: Settings,
    *,
    category: str,
    channel: str,
    sender_ref: str,
    senders: Senders = DEFAULT_SENDERS,
) -> bool:
    """The database is down and the alert could not be stored: still e-mail the
    safeguarding contact, with what is known."""
    info = alerts.AlertView(
        id=0, category=category, channel=channel, created_at=utcnow(), sender_ref=sender_ref,
        child_id=None, child_name=None, child_age=None, caseworker_name=None,
        caseworker_email=None, caseworker_chat=None, excerpt=None, notified_at=None,
        escalated_at=None, acknowledged_at=None, acknowledged_by=None,
    )
    to = alert_recipients(settings, info)
    if not to or not email.is_configured(settings):
        log.error("unstored alert (%s, %s): no way to send it", category, channel)
        return False
    try:
        subject = _render("safety_alert_subject.txt", settings, info, to[0])
        body = _render("safety_alert_email.txt", settings, info, to[0])
        await senders.send_email(settings, to, subject, body)
    except Exception as exc:  # noqa: BLE001
        log.error("unstored alert (%s, %s) not sent: %s", category, channel, exc)
        return False
    return True
