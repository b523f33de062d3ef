"""Alert delivery through the real clients: e-mail to an aiosmtpd server and Telegram to
a fake Bot API, both on loopback; the worker's retry and escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.notify import email
from bot.notify.email import EmailError
from bot.safety import alerts, escalation, notify
from bot.settings import Settings
from bot.storage import repo
from bot.storage.models import utcnow
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI
from tests.safety.conftest import free_port, with_mail

CHAT = 4242


@pytest.fixture
def telegram_api():
    api = FakeTelegramAPI().start()
    yield api
    api.stop()


def make_alert(
    sessions: sessionmaker[Session], *, linked: bool = True, chat: str | None = None,
    age: timedelta = timedelta(0), category: str = "sexual_abuse",
) -> int:
    with sessions.begin() as session:
        child_id = caseworker_id = None
        if linked:
            caseworker = repo.add_caseworker(session=session, email="sanne@test.invalid",
                                             name="Sanne")
            caseworker.telegram_chat = chat
            child = repo.create_child(session=session, display_name="Noor", age=11,
                                      age_group="10-13", caseworker=caseworker)
            child_id, caseworker_id = child.id, caseworker.id
        alert = alerts.create_alert(
            session=session, sender_hash="f" * 64, channel="tg", category=category,
            excerpt_text="hij zit aan mij", child_id=child_id, caseworker_id=caseworker_id,
            now=utcnow() - age,
        )
        return alert.id


def get(sessions: sessionmaker[Session], alert_id: int) -> alerts.AlertView:
    with sessions.begin() as session:
        return alerts.view(session=session, alert=alerts.get_alert(session=session,
                                                                   alert_id=alert_id))


async def test_email_reaches_a_real_smtp_server(settings, smtp):
    mail = with_mail(settings, smtp.port)
    await email.send_email(mail, ["a@test.invalid", "b@test.invalid"], "Onderwerp", "Tekst ✓")
    ((recipients, message),) = smtp.inbox.messages
    assert recipients == ["a@test.invalid", "b@test.invalid"]
    assert message["Subject"] == "Onderwerp" and message["From"] == "mijnstem@test.invalid"
    assert message.get_payload(decode=True).decode().strip() == "Tekst ✓"


async def test_email_errors_are_clear_and_hide_the_text(settings):
    down = with_mail(settings, free_port())  # nothing listens there
    with pytest.raises(EmailError) as raised:
        await email.send_email(down, ["a@test.invalid"], "geheim onderwerp", "geheime tekst")
    assert "geheim" not in str(raised.value)
    with pytest.raises(EmailError):
        await email.send_email(settings, ["a@test.invalid"], "x", "y")  # no SMTP_HOST


async def test_an_alert_goes_to_the_caseworker_by_email_and_telegram(
    settings, sessions, smtp, telegram_api
):
    config = with_mail(settings, smtp.port, telegram_bot_token=TOKEN,
                       telegram_base_url=telegram_api.base_url)
    alert_id = make_alert(sessions, chat=str(CHAT))
    assert await notify.deliver(config, sessions, alert_id)
    assert get(sessions, alert_id).notified_at is not None
    # E-mail: the caseworker, with the alert's number and how to act; no special-category
    # data: no name, age, kind of alarm or words of the child.
    (message,) = smtp.inbox.to("sanne@test.invalid")
    body = message.get_payload(decode=True).decode()
    assert message["Subject"] == f"[Mijn Stem] Nieuwe melding #{alert_id}"
    assert body.startswith(f"Nieuwe melding #{alert_id}, open Mijn Stem.")
    assert f"python -m bot ack {alert_id}" in body
    # Telegram: the caseworker's own chat.
    (sent,) = telegram_api.messages_to(CHAT)
    assert sent["text"].startswith(f"Nieuwe melding #{alert_id}, open Mijn Stem.")
    for text in (message["Subject"], body, sent["text"]):
        for special in ("zit aan mij", "Noor", "seksueel", "misbruik", "sexual_abuse",
                        "jaar", "kindnummer", "Telegram", "webchat"):
            assert special not in text, (special, text)
    # Delivered alerts are not sent again.
    assert await notify.deliver(config, sessions, alert_id)
    assert len(smtp.inbox.messages) == 1 and len(telegram_api.messages_to(CHAT)) == 1


async def test_an_unlinked_alarm_goes_to_the_safeguarding_contact(settings, sessions, smtp):
    alert_id = make_alert(sessions, linked=False, category="danger_now")
    assert await notify.deliver(with_mail(settings, smtp.port), sessions, alert_id)
    (message,) = smtp.inbox.to("veilig@test.invalid")
    body = message.get_payload(decode=True).decode()
    assert body.startswith(f"Nieuwe melding #{alert_id}, open Mijn Stem.")
    assert "gevaar" not in body and "danger" not in body


async def test_telegram_alone_counts_without_smtp(settings, sessions, telegram_api):
    config = settings.model_copy(update=dict(telegram_bot_token=TOKEN,
                                                    telegram_base_url=telegram_api.base_url))
    alert_id = make_alert(sessions, chat=str(CHAT))
    assert await notify.deliver(config, sessions, alert_id)
    assert telegram_api.messages_to(CHAT)


async def test_smtp_down_keeps_the_alert_and_the_worker_retries_it(
    settings, sessions, smtp, telegram_api
):
    port = smtp.port
    smtp.stop()  # the mail server is down
    config = with_mail(settings, port, telegram_bot_token=TOKEN,
                       telegram_base_url=telegram_api.base_url)
    alert_id = make_alert(sessions, chat=str(CHAT))
    assert not await notify.deliver(config, sessions, alert_id)
    assert get(sessions, alert_id).notified_at is None
    assert len(telegram_api.messages_to(CHAT)) == 1  # Telegram did go out at once
    # Too fresh for the worker (the action server may still be sending it).
    outcome = await escalation.run_once_async(config, sessions)
    assert outcome.retried == 0
    smtp.start()  # back up
    later = utcnow() + escalation.RETRY_AFTER + timedelta(seconds=1)
    outcome = await escalation.run_once_async(config, sessions, now=later)
    assert (outcome.retried, outcome.delivered) == (1, 1)
    assert get(sessions, alert_id).notified_at is not None
    assert len(smtp.inbox.to("sanne@test.invalid")) == 1
    assert len(telegram_api.messages_to(CHAT)) == 1, "a retry never sends Telegram twice"


async def test_unacknowledged_alerts_escalate_to_the_team_lead_once(settings, sessions, smtp):
    config = with_mail(settings, smtp.port, alert_escalation_minutes=30)
    old = make_alert(sessions, age=timedelta(minutes=31))
    with sessions.begin() as session:
        cw = repo.add_caseworker(session=session, email="other@test.invalid", name="Other")
        fresh = alerts.create_alert(session=session, sender_hash="e" * 64, channel="web",
                                    category="neglect", excerpt_text=None, child_id=None,
                                    caseworker_id=cw.id).id
        handled = alerts.create_alert(session=session, sender_hash="d" * 64, channel="web",
                                      category="neglect", excerpt_text=None, child_id=None,
                                      caseworker_id=cw.id, now=utcnow() - timedelta(hours=2)).id
        alerts.acknowledge(session=session, alert_id=handled, by="other@test.invalid")
    outcome = await escalation.run_once_async(config, sessions)
    assert outcome.escalated == 1
    (message,) = smtp.inbox.to("teamleider@test.invalid")
    assert message["Subject"] == f"[Mijn Stem] Melding #{old} na 30 minuten niet opgepakt"
    assert "neglect" not in message.as_string() and "verwaarlozing" not in message.as_string()
    assert get(sessions, old).escalated_at is not None
    assert get(sessions, fresh).escalated_at is None
    assert get(sessions, handled).escalated_at is None
    await escalation.run_once_async(config, sessions)
    assert len(smtp.inbox.to("teamleider@test.invalid")) == 1, "escalated once"


def test_the_worker_runs_the_job(settings: Settings, sessions, smtp):
    """bot.worker calls run_once(settings, sessions) synchronously."""
    from bot.worker import JOBS, _load

    job = next(j for j in JOBS if j.target == "bot.safety.escalation:run_once")
    run_once = _load(job.target)
    alert_id = make_alert(sessions, age=timedelta(minutes=45))
    run_once(with_mail(settings, smtp.port), sessions)
    assert get(sessions, alert_id).notified_at is not None
    assert get(sessions, alert_id).escalated_at is not None


async def test_alarms_from_unlinked_chats_are_capped_then_sent_as_one_digest(
    settings, sessions, smtp
):
    config = with_mail(settings, smtp.port, unlinked_alerts_per_hour=2)
    ids = [make_alert(sessions, linked=False, category="neglect") for _ in range(5)]
    sent = [await notify.deliver(config, sessions, alert_id) for alert_id in ids]
    assert sent == [True, True, False, False, False]
    assert len(smtp.inbox.to("veilig@test.invalid")) == 2
    later = utcnow() + escalation.RETRY_AFTER + timedelta(seconds=1)
    outcome = await escalation.run_once_async(config, sessions, now=later)
    assert outcome.delivered == 3
    messages = smtp.inbox.to("veilig@test.invalid")
    assert len(messages) == 3, "the held alerts come as one digest"
    digest = messages[-1]
    body = digest.get_payload(decode=True).decode()
    assert digest["Subject"] == "[Mijn Stem] 3 nieuwe meldingen uit niet-gekoppelde chats"
    assert all(f"#{alert_id}" in body for alert_id in ids[2:])
    assert "verwaarlozing" not in body and "neglect" not in body
    assert all(get(sessions, alert_id).notified_at is not None for alert_id in ids)
