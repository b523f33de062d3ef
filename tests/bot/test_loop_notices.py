"""E-mail notices of the answer loop (bot/loop/notices.py, bot/loop/jobs.py) through a
real SMTP server (aiosmtpd) on loopback, with the clock passed in: new items, items
not opened in time, overdue answers and the escalation to the team lead."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot import accounts, audit
from bot.loop import jobs, notices
from bot.storage import interview, loop, repo
from bot.storage.db import make_session_factory
from bot.storage.models import Notice
from tests.safety.conftest import Inbox, SmtpServer, free_port, with_mail

# Monday 7 December 2026, 10:00 Dutch time.
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
WISH = "<script>alert(1)</script> een hond voor Noor"


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    server = SmtpServer(port=free_port(), inbox=Inbox()).start()
    yield server
    server.stop()


@pytest.fixture
def sessions(sqlite_engine):
    return make_session_factory(sqlite_engine)


def _setup(sessions) -> int:
    with sessions.begin() as session:
        accounts.create(session=session, email="lead@example.org", name="Mila Bos",
                        role="teamlead", team="Noord")
        sanne = accounts.create(session=session, email="sanne@example.org",
                                name="Sanne de Vries", team="Noord")
        child = repo.create_child(session=session, display_name="Noor", age=12,
                                  age_group="10-13", caseworker=sanne)
        child.team = "Noord"
        repo.add_wish(session=session, child_id=child.id, session_id=None, text=WISH)
        refs = [i.ref for i in interview.current_items(session=session, child_id=child.id)]
        interview.decide(session=session, child_id=child.id, refs=refs, shared=True)
        summary = interview.send_shared(
            session=session, child=child,
            items=interview.items_to_send(session=session, child_id=child.id), body=WISH)
        loop.open_follow_ups_for_summary(session=session, child=child, summary=summary,
                                         now=MONDAY)
        return child.id


def _bodies(smtp_server) -> str:
    return "\n".join(m.get_payload() + m["Subject"] for _, m in smtp_server.inbox.messages)


def test_new_summary_mail_has_no_child_content(settings, sessions, smtp):
    mail = with_mail(settings, smtp.port, public_web_url="https://mijnstem.example")
    _setup(sessions)
    _, sent = jobs.run_once(mail, sessions, now=MONDAY + timedelta(minutes=1))
    assert (sent.emails, sent.notices) == (1, 1)
    (message,) = smtp.inbox.to("sanne@example.org")
    body = message.get_payload()
    assert message["Subject"] == "[Mijn Stem] Er is iets nieuws voor je"
    assert "Er is iets nieuws voor je in Mijn Stem" in body
    assert "https://mijnstem.example/portal/" in body
    assert "Hallo Sanne," in body
    for secret in ("Noor", "hond", "<script>", "Mila"):
        assert secret not in _bodies(smtp)
    # Sent once.
    assert jobs.run_once(mail, sessions, now=MONDAY + timedelta(minutes=2))[1].emails == 0


def test_late_and_overdue_items_escalate_to_the_team_lead(settings, sessions, smtp):
    mail = with_mail(settings, smtp.port)
    _setup(sessions)
    jobs.run_once(mail, sessions, now=MONDAY)  # the new-summary mail
    smtp.inbox.messages.clear()

    # Wednesday evening: still within "open within 2 working days".
    late, sent = jobs.run_once(mail, sessions, now=datetime(2026, 12, 9, 20, 0,
                                                             tzinfo=timezone.utc))
    assert (late.open_late, sent.emails) == (0, 0)
    # Thursday morning: not opened in time -> the caseworker is reminded.
    late, sent = jobs.run_once(mail, sessions, now=datetime(2026, 12, 10, 8, 0,
                                                             tzinfo=timezone.utc))
    assert late.open_late == 1 and sent.emails == 1
    (reminder,) = smtp.inbox.to("sanne@example.org")
    assert reminder["Subject"] == "[Mijn Stem] Er wacht iets op jouw antwoord"
    smtp.inbox.messages.clear()

    # 10 working days: end of Monday 21 December. On that day nothing escalates yet.
    day_before = datetime(2026, 12, 21, 21, 0, tzinfo=timezone.utc)
    assert jobs.run_once(mail, sessions, now=day_before)[0].escalated == 0
    after = datetime(2026, 12, 22, 8, 0, tzinfo=timezone.utc)
    late, sent = jobs.run_once(mail, sessions, now=after)
    assert (late.overdue, late.escalated, sent.emails) == (1, 1, 2)
    (to_lead,) = smtp.inbox.to("lead@example.org")
    assert to_lead["Subject"] == "[Mijn Stem] Een antwoord aan een kind is te laat"
    assert "Hallo Mila," in to_lead.get_payload()
    assert smtp.inbox.to("sanne@example.org")
    for secret in ("Noor", "hond", "<script>"):
        assert secret not in _bodies(smtp)
    # Once only, however often the worker runs.
    assert jobs.run_once(mail, sessions, now=after + timedelta(days=3))[1].emails == 0
    with sessions.begin() as session:
        (event,) = audit.list_events(session=session, team="Noord")
        assert (event.action, event.source, event.actor) == (
            "follow_up.escalate", "worker", "worker")


def test_an_answered_item_does_not_escalate(settings, sessions, smtp):
    mail = with_mail(settings, smtp.port)
    child_id = _setup(sessions)
    with sessions.begin() as session:
        sanne = accounts.get_by_email(session=session, email="sanne@example.org")
        (follow_up,) = loop.follow_ups_for_child(session=session, child_id=child_id)
        loop.add_reply(session=session, follow_up=follow_up, by=sanne, status="besproken",
                       text="We praten er zaterdag over.", now=MONDAY + timedelta(days=1))
    late, _ = jobs.run_once(mail, sessions, now=MONDAY + timedelta(days=30))
    assert (late.open_late, late.overdue, late.escalated) == (0, 0, 0)


def test_notices_wait_while_the_mail_server_is_down(settings, sessions):
    port = free_port()  # nothing listens here
    _setup(sessions)
    down = with_mail(settings, port)
    sent = notices.send_pending(down, sessions, now=MONDAY)
    assert (sent.emails, sent.failed) == (0, 1)
    with sessions.begin() as session:
        (notice,) = session.scalars(select(Notice)).all()
        assert notice.sent_at is None and notice.attempts == 1
    server = SmtpServer(port=port, inbox=Inbox()).start()
    try:
        assert notices.send_pending(down, sessions, now=MONDAY).emails == 1
        assert server.inbox.to("sanne@example.org")
    finally:
        server.stop()


def test_without_smtp_nothing_is_sent_and_nothing_is_lost(settings, sessions):
    _setup(sessions)
    assert notices.send_pending(settings, sessions).emails == 0
    with sessions.begin() as session:
        assert session.scalars(select(Notice.sent_at)).all() == [None]
