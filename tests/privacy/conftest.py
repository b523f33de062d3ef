"""Privacy tests: a migrated SQLite app database and a SQLite tracker database in a
temporary var dir, both with the pragmas production uses, and helpers to plant data."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.privacy import tracker_db, tracker_events
from bot.pseudonym import sender_hash
from bot.settings import Settings, load_settings
from bot.storage import migrate, repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import (
    Alert,
    ConversationSession,
    PendingMessage,
    WebSession,
)
from tests.conftest import make_test_env


@pytest.fixture
def psettings(tmp_path: Path) -> Settings:
    var = tmp_path / "var"
    return load_settings(
        make_test_env(
            var,
            DATABASE_URL=f"sqlite:///{var / 'mijnstem.db'}",
            TRACKER_DB_URL=f"sqlite:///{var / 'rasa-tracker.db'}",
        )
    )


@pytest.fixture
def app_engine(psettings: Settings) -> Iterator[Engine]:
    engine = make_engine(psettings)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(app_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(app_engine)


def user_event(text: str, ts: float | None = None) -> dict[str, Any]:
    return {"event": "user", "timestamp": ts or time.time(), "text": text,
            "parse_data": {"text": text, "intent": {"name": "inform", "confidence": 0.9}},
            "input_channel": "rest", "metadata": {}}


def bot_event(text: str, ts: float | None = None) -> dict[str, Any]:
    return {"event": "bot", "timestamp": ts or time.time(), "text": text, "data": {},
            "metadata": {}}


def slot_event(name: str, value: Any, ts: float | None = None) -> dict[str, Any]:
    return {"event": "slot", "timestamp": ts or time.time(), "name": name, "value": value,
            "metadata": {}}


def plant_events(settings: Settings, sender_id: str, events: list[dict[str, Any]]) -> str:
    """Store events the way the encrypted tracker store does; returns the sender key."""
    codec = tracker_db.codec(settings)
    key = codec.sender_key(sender_id)
    with tracker_db.tracker_transaction(settings) as conn:
        conn.execute(tracker_events.events.insert(), [codec.row(key, e) for e in events])
    return key


@dataclass
class PlantedChild:
    child_id: int
    sender_id: str
    other_sender_id: str
    secret: str


def plant_child(
    settings: Settings, sessions: sessionmaker[Session], secret: str, sender_id: str = "tg-kind1"
) -> PlantedChild:
    """A child with two linked chats, answers of every kind, a shared summary, an alert,
    a web transcript and a queued message, each holding `secret`; plus tracker events."""
    other = sender_id + "-web"
    with sessions.begin() as session:
        email = f"sanne-{uuid.uuid4().hex[:8]}@example.org"
        caseworker = repo.add_caseworker(session=session, email=email, name="Sanne")
        child = repo.create_child(session=session, display_name="Noor", age=11,
                                  age_group="10-13", caseworker=caseworker)
        chats = []
        for sid, channel in ((sender_id, "tg"), (other, "web")):
            chat = ConversationSession(child_id=child.id, channel=channel,
                                       sender_hash=sender_hash(settings.pseudonym_secret, sid))
            session.add(chat)
            chats.append(chat)
        session.flush()
        repo.add_wish(session=session, child_id=child.id, session_id=chats[0].id,
                      text=f"wish: {secret}")
        repo.add_shared_summary(session=session, child=child, body=f"summary: {secret}")
        session.add(Alert(child_id=child.id, sender_hash=chats[0].sender_hash, channel="tg",
                          category="abuse", excerpt=f"alert: {secret}"))
        session.add(WebSession(token_hash=sender_hash("t", sender_id), conversation_id=chats[1].id,
                               transcript=f'[{{"from": "child", "text": "{secret}"}}]',
                               pending_text=secret))
        session.add(PendingMessage(channel="tg", sender=sender_id, chat="987654321",
                                   text=f"pending: {secret}"))
        child_id = child.id
    plant_events(settings, sender_id, [user_event(f"tracker: {secret}"), bot_event("Genoteerd.")])
    plant_events(settings, other, [user_event(f"web tracker: {secret}")])
    return PlantedChild(child_id, sender_id, other, secret)


def raw_files(var_dir: Path) -> dict[str, bytes]:
    """Every SQLite file (databases, -wal, -shm, journals) in the var dir, as bytes."""
    return {p.name: p.read_bytes() for p in sorted(var_dir.iterdir())
            if p.is_file() and ".db" in p.name}


def found_in_files(var_dir: Path, needle: str) -> list[str]:
    data = needle.encode("utf-8")
    return [name for name, content in raw_files(var_dir).items() if data in content]
