"""Rasa's tracker events as we store them: encrypted, under a pseudonymous sender key.

Shared by both environments: the tracker store inside Rasa (`bot.nlu.tracker_store`,
SQLAlchemy 1.4) and the app side (`bot.privacy.*`, SQLAlchemy 2.0) that erases,
exports, purges and re-encrypts events. Hence only SQLAlchemy Core constructs that both
versions understand, `cryptography` and the standard library.

The `events` table is Rasa's own (`SQLTrackerStore.SQLEvent`), used like this:

- `sender_id` holds `sender_hash(pseudonym_secret, sender_id)`, the same keyed hash the
  app database keeps in `conversation_session.sender_hash`, so a child's events can be
  found (to erase or export them) without storing any chat id;
- `data` holds the event's JSON as a Fernet token (MultiFernet, newest key first);
- `intent_name` and `action_name` stay empty: they would tell what was said;
- `type_name` and `timestamp` stay readable: Rasa needs them to find the start of a
  conversation session, and retention needs the time.

`erased_sender` holds tombstones: when a conversation is erased while Rasa still has
it in memory (the child confirms "vergeet mij" in that very conversation), the tracker
store must not write the old events back; see `EncryptedSQLTrackerStore.save`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from bot.pseudonym import sender_hash
from bot.storage.crypto import Cipher

metadata = sa.MetaData()

# Same columns as rasa.core.tracker_store.SQLTrackerStore.SQLEvent (Rasa 3.6), so the
# app side can create the table when Rasa has not run yet (tests, a fresh install).
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

erased_sender = sa.Table(
    "erased_sender",
    metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("erased_at", sa.Float, nullable=False),
)

# Written into the metadata of events that retention put in place of purged ones.
SNAPSHOT_MARK = "mijnstem_retention_snapshot"


class EventCodec:
    """Turns event dicts into stored values and back."""

    def __init__(self, keys: Iterable[str], pseudonym_secret: str) -> None:
        self.cipher = Cipher(tuple(keys))
        self._secret = pseudonym_secret

    def sender_key(self, sender_id: str) -> str:
        return sender_hash(self._secret, sender_id)

    def encode(self, event: dict[str, Any]) -> str:
        # ensure_ascii: lone surrogates and control characters become \u escapes, so any
        # string Rasa accepted can be encrypted.
        return self.cipher.encrypt(json.dumps(event, ensure_ascii=True))

    def decode(self, token: str) -> dict[str, Any]:
        return json.loads(self.cipher.decrypt(token))

    def row(self, sender_key: str, event: dict[str, Any]) -> dict[str, Any]:
        return self.row_and_text(sender_key, event)[0]

    def row_and_text(self, sender_key: str, event: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The row to store, and the JSON text that it holds encrypted."""
        text = json.dumps(event, ensure_ascii=True)  # as `encode`
        return {
            "sender_id": sender_key,
            "type_name": event.get("event") or "",
            "timestamp": event.get("timestamp"),
            "intent_name": None,
            "action_name": None,
            "data": self.cipher.encrypt(text),
        }, text


def sqlite_pragmas(dbapi_conn: Any) -> None:
    """Per-connection settings for a SQLite tracker database (Rasa's and ours alike)."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a crash of
    # Rasa or of the whole program loses nothing, a power cut may lose the last turns of
    # conversation state (never a child's answers: the action server stores those in
    # the application database, which keeps FULL). Rasa waits on this fsync with its
    # event loop blocked, once per message.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten with zeros on disk, not just unlinked.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# pg_advisory_xact_lock key: "create the tracker tables" (any fixed 64-bit number).
_SCHEMA_LOCK = 0x6D696A6E7374656D


def ensure_schema(conn: Any) -> None:
    """Create our tracker tables if missing. On PostgreSQL several Rasa servers may start
    at once: without a lock, both see no table and both CREATE it, and the second fails
    on the type's unique index. The lock is held until the caller's transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
    metadata.create_all(conn, checkfirst=True)


def erased_at(conn: Any, sender_key: str) -> float | None:
    value = conn.execute(
        sa.select(erased_sender.c.erased_at).where(erased_sender.c.sender_id == sender_key)
    ).scalar()
    return None if value is None else float(value)


def erase(conn: Any, sender_keys: Iterable[str], now: float | None = None) -> int:
    """Delete every event of these conversations and leave a tombstone for each."""
    keys = sorted(set(sender_keys))
    if not keys:
        return 0
    moment = time.time() if now is None else now
    deleted = conn.execute(events.delete().where(events.c.sender_id.in_(keys))).rowcount
    conn.execute(erased_sender.delete().where(erased_sender.c.sender_id.in_(keys)))
    conn.execute(erased_sender.insert(), [{"sender_id": k, "erased_at": moment} for k in keys])
    return int(deleted or 0)


def forget_tombstones(conn: Any, before: float) -> int:
    result = conn.execute(erased_sender.delete().where(erased_sender.c.erased_at < before))
    return int(result.rowcount or 0)


def stored_events(
    conn: Any, codec: EventCodec, sender_keys: Iterable[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(sender key, decrypted event) for these conversations, in stored order."""
    keys = sorted(set(sender_keys))
    if not keys:
        return
    rows = conn.execute(
        sa.select(events.c.sender_id, events.c.data)
        .where(events.c.sender_id.in_(keys))
        .order_by(events.c.id)
    )
    for row in rows:
        yield row.sender_id, codec.decode(row.data)


def checkpoint(conn: Any) -> None:
    """Copy a SQLite WAL into the database file and truncate it, so that pages which
    held erased rows do not linger in the -wal file. A no-op on other databases."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
