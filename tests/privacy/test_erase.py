"""Erasure on real SQLite files: rows counted, raw files (WAL included) searched."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.privacy import tracker_db, tracker_events
from bot.privacy.erase import NOT_CHILD_DATA, Owner, Scope, forget_chat, forget_child, ownership
from bot.settings import Settings
from bot.storage.models import (
    Alert,
    Base,
    Child,
    ConversationSession,
    Invite,
    PendingMessage,
    SharedSummary,
    WebSession,
    Wish,
)
from tests.privacy.conftest import found_in_files, plant_child, plant_events, user_event

SECRET = "de paarse olifant woont onder de trap"


def _tokens(psettings: Settings) -> list[str]:
    """Tail ends of every Fernet token stored now (app and tracker database)."""
    tokens = []
    for name in ("mijnstem.db", "rasa-tracker.db"):
        with sqlite3.connect(psettings.var_dir / name) as conn:
            for table, column in (("wish", "text"), ("shared_summary", "body"),
                                  ("pending_message", "text"), ("events", "data")):
                try:
                    rows = conn.execute(f"SELECT {column} FROM {table}").fetchall()
                except sqlite3.OperationalError:
                    continue
                tokens += [row[0][-40:] for row in rows if row[0]]
    return tokens


def _count(sessions: sessionmaker[Session], model: type, **where: object) -> int:
    with sessions.begin() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def _tracker_rows(psettings: Settings) -> int:
    with tracker_db.tracker_transaction(psettings) as conn:
        return int(conn.execute(select(func.count()).select_from(tracker_events.events)).scalar())


def test_nothing_is_stored_in_clear(psettings: Settings, sessions: sessionmaker[Session]):
    plant_child(psettings, sessions, SECRET)
    assert found_in_files(psettings.var_dir, SECRET) == []
    assert found_in_files(psettings.var_dir, "olifant") == []
    # The Telegram chat id of a queued message is encrypted; the tracker keeps no sender
    # id (the app database keeps the bridge's pseudonymous one in pending_message only).
    assert found_in_files(psettings.var_dir, "987654321") == []
    assert [f for f in found_in_files(psettings.var_dir, "tg-kind1") if "tracker" in f] == []


def test_vergeet_mij_erases_every_word_and_keeps_the_case(
    psettings: Settings, sessions: sessionmaker[Session]
):
    planted = plant_child(psettings, sessions, SECRET)
    other = plant_child(psettings, sessions, "een ander kind", sender_id="tg-kind2")
    before = _tokens(psettings)
    assert len(before) >= 6

    report = forget_chat(psettings, sessions, planted.sender_id)

    assert report.tracker_events == 3  # both chats of the child
    assert _count(sessions, Wish, child_id=planted.child_id) == 0
    assert _count(sessions, SharedSummary, child_id=planted.child_id) == 0
    assert _count(sessions, PendingMessage, sender=planted.sender_id) == 0
    # The case record and the chat links stay: the child can start afresh.
    assert _count(sessions, Child, id=planted.child_id) == 1
    assert _count(sessions, ConversationSession, child_id=planted.child_id) == 2
    with sessions.begin() as session:
        alert = session.scalars(select(Alert).where(Alert.child_id == planted.child_id)).one()
        assert alert.excerpt is None and alert.category == "abuse"
        web = session.scalars(
            select(WebSession).join(ConversationSession).where(
                ConversationSession.child_id == planted.child_id
            )
        ).one()
        assert web.transcript == "[]" and web.pending_text is None
    # The other child is untouched.
    assert _count(sessions, Wish, child_id=other.child_id) == 1
    assert _tracker_rows(psettings) == 3
    # Nothing left on disk: neither the words nor the tokens that held them.
    left = [t for t in before if found_in_files(psettings.var_dir, t)]
    other_tokens = set(_tokens(psettings))
    assert [t for t in left if t not in other_tokens] == []


def test_forget_erases_the_whole_case(psettings: Settings, sessions: sessionmaker[Session]):
    planted = plant_child(psettings, sessions, SECRET)
    before = _tokens(psettings)

    report = forget_child(psettings, sessions, planted.child_id, Scope.FULL)

    assert report.rows["child"] == 1 and report.rows["wish"] == 1
    for model in (Child, Invite, ConversationSession, Wish, SharedSummary, WebSession,
                  PendingMessage):
        assert _count(sessions, model) == 0, model.__name__
    with sessions.begin() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.child_id is None and alert.excerpt is None
    assert _tracker_rows(psettings) == 0
    assert [t for t in before if found_in_files(psettings.var_dir, t)] == []
    with pytest.raises(LookupError):
        forget_child(psettings, sessions, planted.child_id)


def test_an_unlinked_chat_can_erase_its_own_conversation(
    psettings: Settings, sessions: sessionmaker[Session]
):
    plant_events(psettings, "web-stranger", [user_event(SECRET)])
    plant_events(psettings, "web-someone-else", [user_event("blijft")])
    report = forget_chat(psettings, sessions, "web-stranger")
    assert report.tracker_events == 1
    assert _tracker_rows(psettings) == 1


def test_erasure_leaves_a_tombstone(psettings: Settings, sessions: sessionmaker[Session]):
    key = plant_events(psettings, "tg-x", [user_event(SECRET)])
    forget_chat(psettings, sessions, "tg-x")
    with tracker_db.tracker_transaction(psettings) as conn:
        assert tracker_events.erased_at(conn, key) is not None


def test_secure_delete_is_on_for_both_databases(psettings: Settings, app_engine):
    with app_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine = tracker_db.make_tracker_engine(psettings)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # Conversation state syncs at WAL checkpoints (NORMAL); the children's answers
        # in the application database at every commit (FULL, SQLite's default).
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    engine.dispose()
    with app_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def test_every_table_is_either_child_data_or_declared_not_to_be(psettings: Settings, sessions):
    """A new table that can hold a child's data must be reachable from the child (a
    foreign key to child or conversation_session, a sender_hash or sender column);
    otherwise erase and export would miss it. Declare it in NOT_CHILD_DATA if it holds
    none."""
    owner = Owner(child_id=1, session_ids=(1,), sender_keys=("k",))
    unreachable = []
    with sessions.begin() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_CHILD_DATA:
                continue
            if ownership(table, owner, session=session,
                         pseudonym_secret=psettings.pseudonym_secret) is None:
                unreachable.append(table.name)
    assert unreachable == []
