"""The worker's answer-loop job (`python -m bot worker`, every minute) and
`python -m bot notices`, which runs it once: flag and escalate late answers, then send
the queued e-mail notices."""

from __future__ import annotations

import argparse
import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.loop import notices
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory

log = logging.getLogger("mijnstem.loop")


def run_once(
    settings: Settings, sessions: sessionmaker[Session], *, now: datetime | None = None,
    send: notices.SendFn | None = None,
) -> tuple[notices.EscalationOutcome, notices.SendOutcome]:
    late = notices.escalate_overdue(settings, sessions, now=now)
    sent = notices.send_pending(settings, sessions, now=now,
                                **({"send": send} if send is not None else {}))
    if late.escalated or sent.emails:
        log.info("answer loop: %d escalated, %d e-mails sent", late.escalated, sent.emails)
    return late, sent


def notices_command(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings)
    try:
        migrate.upgrade(engine)
        late, sent = run_once(settings, make_session_factory(engine))
    finally:
        engine.dispose()
    print(f"late to open: {late.open_late}, overdue: {late.overdue}, "
          f"escalated: {late.escalated}; e-mails sent: {sent.emails} "
          f"({sent.notices} notices, {sent.failed} failed)")
    if not settings.smtp_host:
        print("SMTP_HOST is not set: notices wait in the queue")
    return 0
