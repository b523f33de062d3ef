"""Issue 10, faults: a part of the stack dies in the middle of a child's interview.

One real action server and Rasa, on a PostgreSQL server of their own (app database and
tracker store), so PostgreSQL itself can be restarted too. Each test uses its own chat.
"""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.privacy.tracker_events import EventCodec, stored_events
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Wish
from bot.telegram.texts import DomainResponses
from tests.e2e.conftest import texts
from tests.e2e.stack import Stack, start_stack
from tests.support.postgres import PostgresServer, PostgresUnavailable, start_postgres

pytestmark = pytest.mark.e2e

ASK_WISH = "Wat is een wens van jou?"
ANOTHER_WISH = "Heb je nog een wens?"


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory,
          own_postgres: PostgresServer) -> Iterator[Stack]:
    # Plain postgresql:// URLs: the app picks psycopg 3 and Rasa psycopg2 from them.
    urls = {name: own_postgres.create_database(db).replace("+psycopg", "")
            for name, db in (("DATABASE_URL", "app"), ("TRACKER_DB_URL", "tracker"))}
    running = start_stack(Path(tmp_path_factory.mktemp("faults")), extra_env=urls)
    yield running
    running.stop()


def _joined(stack: Stack, chat: str, message: str) -> str:
    return "\n".join(texts(stack.say(chat, message)))


def _wishes(stack: Stack, child_id: int) -> list[str]:
    with make_session_factory(make_engine(stack.settings)).begin() as session:
        return [w.text for w in session.scalars(
            select(Wish).where(Wish.child_id == child_id).order_by(Wish.id))]


def _user_messages(stack: Stack, chat: str) -> list[str]:
    codec = EventCodec(stack.settings.encryption_keys, stack.settings.pseudonym_secret)
    engine = make_engine(stack.settings, stack.settings.tracker_db_url)
    try:
        with engine.connect() as conn:
            return [e["text"] for _, e in stored_events(conn, codec, [codec.sender_key(chat)])
                    if e["event"] == "user"]
    finally:
        engine.dispose()


def _start(stack: Stack, chat: str) -> int:
    lines = stack.cli("invite", "--age", "12").stdout.strip().splitlines()
    child_id = int(lines[0].split()[1].rstrip(","))
    assert ASK_WISH in _joined(stack, chat, f"/start {lines[-1]}")
    return child_id


def test_action_server_killed_in_a_form_the_child_is_asked_to_wait(stack: Stack):
    chat = "rest-fault-actions"
    child_id = _start(stack, chat)
    stack.kill("action server")
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            stack.say(chat, "ik wil op judo")
        assert refused.value.code == 503
        assert refused.value.headers["X-MijnStem-Refused"] == "busy"
        busy = texts(json.load(refused.value))
        assert busy == [DomainResponses.load().text("utter_busy", "10-13")]
    finally:
        stack.restart("action server")
    # The message was not used up: sent again, it answers the same question.
    assert ANOTHER_WISH in _joined(stack, chat, "ik wil op judo")
    assert _wishes(stack, child_id) == ["ik wil op judo"]
    assert _user_messages(stack, chat)[1:] == ["ik wil op judo"]


def test_rasa_restarted_in_a_form_the_form_resumes(stack: Stack):
    chat = "rest-fault-rasa"
    child_id = _start(stack, chat)
    assert ANOTHER_WISH in _joined(stack, chat, "ik wil op judo")
    assert "wens" in _joined(stack, chat, "ja")
    stack.kill("rasa")  # a crash, not a clean stop
    stack.restart("rasa")
    assert ANOTHER_WISH in _joined(stack, chat, "ik wil turnen")
    assert _wishes(stack, child_id) == ["ik wil op judo", "ik wil turnen"]


def test_postgres_restarted_connections_recover_and_nothing_is_lost(
        stack: Stack, own_postgres: PostgresServer):
    chat = "rest-fault-postgres"
    child_id = _start(stack, chat)
    assert ANOTHER_WISH in _joined(stack, chat, "ik wil op judo")
    own_postgres.restart()  # every pooled connection of Rasa and the actions is now dead
    assert "wens" in _joined(stack, chat, "ja")
    assert ANOTHER_WISH in _joined(stack, chat, "ik wil turnen")
    assert _wishes(stack, child_id) == ["ik wil op judo", "ik wil turnen"]
    assert _user_messages(stack, chat)[1:] == ["ik wil op judo", "ja", "ik wil turnen"]
