"""Rasa's SQL tracker store, with every stored event encrypted (endpoints.yml).

Runs inside Rasa (`.venv-rasa`). The keys come from the environment that `bot.stack`
hands to Rasa: MIJNSTEM_ENCRYPTION_KEYS (Fernet keys, newest first, comma-separated;
the same keys as the app database) and MIJNSTEM_PSEUDONYM_SECRET (for the keyed hash
that stands in for the conversation id). See bot/privacy/tracker_events.py for the
table layout and docs/privacy.md for the whole picture.
"""

from __future__ import annotations

import os
from typing import Any

# Rasa falls back to an in-memory tracker store, with only a warning, when the class in
# endpoints.yml cannot be imported. A broken import must stop Rasa instead.
try:
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.nlu import log_privacy
    from bot.privacy import tracker_events
    from bot.storage.files import ensure_private_file, sqlite_path
except ImportError as exc:  # pragma: no cover - exercised only by a broken install
    raise RuntimeError(f"the encrypted tracker store cannot be loaded: {exc}") from exc


class TrackerStoreConfigError(RuntimeError):
    pass


def _codec_from_environment() -> tracker_events.EventCodec:
    keys = [k.strip() for k in os.environ.get("MIJNSTEM_ENCRYPTION_KEYS", "").split(",")]
    keys = [k for k in keys if k]
    secret = os.environ.get("MIJNSTEM_PSEUDONYM_SECRET", "")
    if not keys or not secret:
        raise TrackerStoreConfigError(
            "MIJNSTEM_ENCRYPTION_KEYS and MIJNSTEM_PSEUDONYM_SECRET must be set for Rasa "
            "(python -m bot run passes them); refusing to store conversations in clear"
        )
    return tracker_events.EventCodec(keys, secret)


class EncryptedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that keeps no conversation id and no message in clear."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        log_privacy.install()
        self.codec = _codec_from_environment()
        path = sqlite_path(str(kwargs.get("host") or kwargs.get("url") or ""))
        if path is not None:
            ensure_private_file(path)  # 0600 before SQLite creates it
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(
                self.engine, "connect", lambda conn, _r: tracker_events.sqlite_pragmas(conn)
            )
            # Connections opened while the tables were created lack the pragmas.
            self.engine.dispose()
        with self.engine.begin() as conn:
            tracker_events.ensure_schema(conn)
            self._check_keys(conn)

    def _check_keys(self, conn: Any) -> None:
        """Fail at start, not at a child's next message, when the keys do not fit."""
        token = conn.execute(
            sa.select(tracker_events.events.c.data).order_by(tracker_events.events.c.id.desc())
            .limit(1)
        ).scalar()
        if token is None:
            return
        if token.lstrip().startswith("{"):
            raise TrackerStoreConfigError(
                "the tracker store holds events in clear, written before encryption was "
                "added: run `python -m bot rotate-keys` once to encrypt them"
            )
        try:
            self.codec.decode(token)
        except ValueError as exc:
            raise TrackerStoreConfigError(
                "the tracker store holds events that MIJNSTEM_ENCRYPTION_KEYS cannot "
                "decrypt (a key was removed before `python -m bot rotate-keys` ran?)"
            ) from exc

    async def keys(self) -> list[str]:
        """Conversation ids are not stored, only their keyed hashes."""
        raise NotImplementedError(
            "EncryptedSQLTrackerStore keeps no conversation ids; use python -m bot export"
        )

    def _event_query(
        self, session: Any, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Any:
        return super()._event_query(
            session, self.codec.sender_key(sender_id), fetch_events_from_all_sessions
        )

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions).all()
            events = [self.codec.decode(row.data) for row in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        key = self.codec.sender_key(tracker.sender_id)
        with self.session_scope() as session:
            conn = session.connection()
            erased = tracker_events.erased_at(conn, key)
            first = tracker.events[0].timestamp if tracker.events else None
            if erased is not None and first is not None and first <= erased:
                # This tracker was read before its conversation was erased (the child
                # confirmed "vergeet mij" in this very turn, or a caseworker ran
                # `forget` meanwhile). Keep only what happened after the erasure; the
                # rewrite is idempotent, so a second save in the same turn is safe.
                conn.execute(
                    tracker_events.events.delete().where(
                        tracker_events.events.c.sender_id == key
                    )
                )
                new_events = [e for e in tracker.events if (e.timestamp or 0) > erased]
            else:
                new_events = list(self._additional_events(session, tracker))
            rows = [self.codec.row(key, event.as_dict()) for event in new_events]
            if rows:
                conn.execute(tracker_events.events.insert(), rows)
            session.commit()
