"""The e-mail client for notifications (safeguarding alerts and their escalation):
plain SMTP from settings, so tests point it at an aiosmtpd server on loopback.

smtplib is blocking; `send_email` runs it in a worker thread, so an awaiting caller
(the action server) keeps serving children while a slow mail server answers.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot.settings import Settings


class EmailError(RuntimeError):
    """The message was not sent (no SMTP server configured, unreachable or refusing)."""


def is_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def build_message(settings: Settings, to: list[str], subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(body)
    return message


def send_email_sync(
    settings: Settings, to: list[str] | str, subject: str, body: str, *, timeout: float = 10.0
) -> None:
    """Send a plain-text message; raises EmailError when it was not sent."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not settings.smtp_host:
        raise EmailError("SMTP_HOST is not set")
    if not recipients:
        raise EmailError("no recipient")
    message = build_message(settings, recipients, subject, body)
    try:
        if settings.smtp_security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password or "")
            refused = client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        # The message text is never logged or raised: it may name a child.
        raise EmailError(f"mail server {settings.smtp_host}:{settings.smtp_port}: "
                         f"{type(exc).__name__}") from None
    if refused:
        raise EmailError(f"mail server refused {len(refused)} recipient(s)")


async def send_email(
    settings: Settings, to: list[str] | str, subject: str, body: str, *, timeout: float = 10.0
) -> None:
    await asyncio.to_thread(send_email_sync, settings, to, subject, body, timeout=timeout)
