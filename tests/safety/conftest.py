"""Safety tests: the action fixtures (real domain, real migrated SQLite), a real SMTP
server (aiosmtpd) on loopback, and helpers to build trackers and read alerts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from rasa_sdk import Tracker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from bot.storage.models import Alert

# The action tests' fixtures: a configured actions.deps and a linked child.
from tests.actions.conftest import configured, linked_child  # noqa: F401


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for rcpts, m in self.messages if address in rcpts]


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    server = SmtpServer(port=free_port(), inbox=Inbox()).start()
    yield server
    server.stop()


def with_mail(settings: Settings, port: int, **changes: Any) -> Settings:
    return settings.model_copy(update=dict(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
        smtp_from="mijnstem@test.invalid", safeguarding_contact_email="veilig@test.invalid",
        team_lead_email="teamleider@test.invalid", **changes,
    ))


def tracker(
    text: str,
    *,
    intent: str = "safety_alarm",
    category: str | None = None,
    sender: str = "rest-unit-1",
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    immediate: bool = False,
) -> Tracker:
    entities = []
    if category is not None:
        entities.append({"entity": "safety_category", "value": category,
                         "start": 0, "end": len(text), "extractor": "SafetyDetector"})
    if immediate:
        entities.append({"entity": "safety_immediate", "value": "yes",
                         "start": 0, "end": len(text), "extractor": "SafetyDetector"})
    return Tracker(
        sender_id=sender,
        slots={"linked": True, "age_group": "10-13", **(slots or {})},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0},
                        "entities": entities},
        events=[], paused=False, followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def all_alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions.begin() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))
