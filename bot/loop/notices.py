"""E-mail notices to caseworkers and team leads (issue 8): a new shared summary, a new
message or reaction from a child, an overdue answer, and the escalation of overdue
answers to the team lead.

Notices are queued in the database in the same transaction as what they announce
(bot/storage/loop.py) and sent here by the worker, one e-mail per person per round.
An e-mail holds no child content: only "er is iets nieuws voor je in Mijn Stem" and a
link to the portal (Jinja templates in bot/templates/notify/loop_*.txt).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot import accounts, audit
from bot.notify import email, templates
from bot.settings import Settings
from bot.storage import loop
from bot.storage.models import Caseworker, Child, Notice, utcnow

log = logging.getLogger("mijnstem.loop")

# At most this many tries per notice (the worker runs every minute).
MAX_ATTEMPTS = 5
# The order in which kinds are named in one e-mail's subject.
_SUBJECT_ORDER = ("escalation", "overdue", "new_message", "new_summary", "team_inbox")

SendFn = Callable[[Settings, list[str] | str, str, str], None]


def portal_url(settings: Settings) -> str:
    return f"{settings.public_web_url.rstrip('/')}/portal/"


def render(settings: Settings, caseworker: Caseworker, kinds: set[str]) -> tuple[str, str]:
    """(subject, body) for one person; `kinds` are the notice kinds waiting for them."""
    main = next((k for k in _SUBJECT_ORDER if k in kinds), "new_summary")
    subject = templates.render("notify/loop_subject.txt", kind=main)
    body = templates.render("notify/loop_email.txt", first_name=caseworker.first_name,
                            kinds=kinds, portal_url=portal_url(settings))
    return subject, body


@dataclass(frozen=True)
class SendOutcome:
    emails: int = 0
    notices: int = 0
    failed: int = 0


def _send(settings: Settings, to: list[str] | str, subject: str, body: str) -> None:
    email.send_email_sync(settings, to, subject, body)


def send_pending(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    now: datetime | None = None,
    send: SendFn = _send,
) -> SendOutcome:
    """Send every queued notice: one e-mail per recipient, then mark them sent. Without
    an SMTP server nothing is sent and the notices wait."""
    if not email.is_configured(settings):
        return SendOutcome()
    now = now or utcnow()
    with sessions.begin() as session:
        waiting: dict[int, list[int]] = defaultdict(list)
        kinds: dict[int, set[str]] = defaultdict(set)
        for notice in loop.unsent_notices(session=session, max_attempts=MAX_ATTEMPTS):
            waiting[notice.caseworker_id].append(notice.id)
            kinds[notice.caseworker_id].add(notice.kind)
    emails = notices = failed = 0
    for caseworker_id, notice_ids in waiting.items():
        with sessions.begin() as session:
            caseworker = accounts.get(session=session, account_id=caseworker_id)
            if caseworker is None:
                continue
            address = caseworker.email
            subject, body = render(settings, caseworker, kinds[caseworker_id])
            active = caseworker.active
        sent = False
        if active:
            try:
                send(settings, [address], subject, body)
                sent = True
            except email.EmailError as exc:
                log.warning("notice e-mail not sent: %s", exc)
                failed += 1
        with sessions.begin() as session:
            for notice_id in notice_ids:
                row = session.get(Notice, notice_id)
                if row is None:
                    continue
                if sent or not active:
                    row.sent_at = now
                else:
                    row.attempts += 1
        if sent:
            emails += 1
            notices += len(notice_ids)
    return SendOutcome(emails=emails, notices=notices, failed=failed)


@dataclass(frozen=True)
class EscalationOutcome:
    open_late: int = 0
    overdue: int = 0
    escalated: int = 0


def escalate_overdue(
    settings: Settings, sessions: sessionmaker[Session], *, now: datetime | None = None
) -> EscalationOutcome:
    """Queue notices for late items: the caseworker (or the team inbox's team leads)
    when an item was not opened in time or not answered in time, and the team lead
    once an answer is overdue. Each only once (the follow-up records when)."""
    now = now or utcnow()
    open_late = overdue = escalated = 0
    with sessions.begin() as session:
        for follow_up in loop.late_to_open(session=session, now=now):
            child = session.get(Child, follow_up.child_id)
            if child is not None and loop.queue_for_child(
                session=session, child=child, kind="overdue",
                key=f"open_late:{follow_up.id}", now=now,
            ):
                open_late += 1
        for follow_up in loop.overdue_follow_ups(session=session, now=now):
            child = session.get(Child, follow_up.child_id)
            if child is None:
                continue
            if follow_up.overdue_notified_at is None:
                loop.queue_for_child(session=session, child=child, kind="overdue",
                                     key=f"overdue:{follow_up.id}", now=now)
                follow_up.overdue_notified_at = now
                overdue += 1
            if follow_up.escalated_at is None:
                team = child.team or (child.caseworker.team if child.caseworker else None)
                leads = accounts.team_leads(session=session, team=team)
                for lead in leads:
                    loop.queue_notice(session=session, caseworker=lead, kind="escalation",
                                      key=f"escalation:{follow_up.id}", now=now)
                if not leads:
                    log.warning("overdue answer without a team lead to escalate to")
                follow_up.escalated_at = now
                audit.record(session=session, action="follow_up.escalate", actor="worker",
                             target=f"follow_up:{follow_up.id}", child_id=child.id,
                             source="worker", now=now,
                             detail=f"{len(leads)} team lead(s)")
                escalated += 1
    return EscalationOutcome(open_late=open_late, overdue=overdue, escalated=escalated)
