"""Rasa's SQL tracker store, with every stored event encrypted (endpoints.yml).

Runs inside Rasa (`.venv-rasa`). The keys come from the environment that `bot.stack`
hands to Rasa: MIJNSTEM_ENCRYPTION_KEYS (Fernet keys, newest first, comma-separated;
the same keys as the app database) and MIJNSTEM_PSEUDONYM_SECRET (for the keyed hash
that stands in for the conversation id). See bot/privacy/tracker_events.py for the
table layout and docs/privacy.md for the whole picture.

Decrypting is the expensive part of reading a tracker (a Fernet token and a JSON
document per event, hundreds of events for a whole interview, on every turn). So the
decrypted events of recent conversations are cached in this process, and a turn
decrypts only the rows added since (`_EventCache`). The cache keeps each event's
plaintext JSON and parses it per read: Rasa's events share nested dicts with what they
were made from, so handing out cached dicts could let a turn change the cache. The
cache is checked against the table on every read (the number of rows and the highest
id up to what is cached), so another Rasa process writing, an erasure, retention or a
restore in another process is seen at once; a key rotation re-encrypts rows in place
and changes nothing that is cached. Entries idle for `CACHE_IDLE_SECONDS` are dropped,
and the cache holds at most `CACHE_MAX_EVENTS` events.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

# Rasa falls back to an in-memory tracker store, with only a warning, when the class in
# endpoints.yml cannot be imported. A broken import must stop Rasa instead.
try:
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.orm import sessionmaker

    from bot.nlu import log_privacy, speedups
    from bot.privacy import tracker_events
    from bot.storage.files import ensure_private_file, sqlite_path
except ImportError as exc:  # pragma: no cover - exercised only by a broken install
    raise RuntimeError(f"the encrypted tracker store cannot be loaded: {exc}") from exc


class TrackerStoreConfigError(RuntimeError):
    pass


CACHE_MAX_EVENTS = 60_000
CACHE_IDLE_SECONDS = 600.0
# Decoded trackers take far more memory than the cached JSON: about 20 interviews' worth.
TRACKER_CACHE_MAX_EVENTS = 20_000
# On a tracker this store has saved: how many of its events are stored.
STORED = "_mijnstem_stored_events"  # also known to speedups.TRACKER_FIELDS


@dataclass
class _Cached:
    ids: list[int] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    used: float = 0.0


class _EventCache:
    """Decrypted events per sender key, least recently used first."""

    def __init__(self, max_events: int = CACHE_MAX_EVENTS,
                 idle_seconds: float = CACHE_IDLE_SECONDS) -> None:
        self.max_events = max_events
        self.idle_seconds = idle_seconds
        self.entries: OrderedDict[str, _Cached] = OrderedDict()
        self.size = 0
        self.decoded = 0  # events decrypted by this process (a measure for tests)

    def events(self, conn: Any, key: str, codec: tracker_events.EventCodec) -> list[dict[str, Any]]:
        """All stored events of `key`, in stored order; only new rows are decrypted."""
        now = time.monotonic()
        self._forget_idle(now)
        cached = self.entries.pop(key, None)
        if cached is not None:
            self.size -= len(cached.ids)
            if cached.ids:
                count, top = conn.execute(
                    _statements().count_top_upto, {"key": key, "upto": cached.ids[-1]}
                ).one()
                if (count, top) != (len(cached.ids), cached.ids[-1]):
                    cached = None  # rows were removed or replaced: read everything again
        if cached is None:
            cached = _Cached()
        after = cached.ids[-1] if cached.ids else None
        rows = (conn.execute(_statements().rows, {"key": key}) if after is None
                else conn.execute(_statements().rows_after, {"key": key, "after": after}))
        for row in rows:
            cached.ids.append(int(row.id))
            cached.plain.append(codec.cipher.decrypt(row.data))
            self.decoded += 1
        cached.used = now
        self.entries[key] = cached
        self.size += len(cached.ids)
        while self.size > self.max_events and len(self.entries) > 1:
            _, evicted = self.entries.popitem(last=False)
            self.size -= len(evicted.ids)
        return [json.loads(plain) for plain in cached.plain]

    def extend(self, key: str, ids: list[int], plain: list[str], rows: int) -> None:
        """Rows this process has just written (and committed), `rows` being all of the
        conversation's rows after it: kept as they are, so its own events are never
        decrypted again. The check on each read still guards the rest."""
        if not ids:
            return
        cached = self.entries.pop(key, None)
        if cached is None:
            if rows != len(ids):
                return  # rows written before, by another process: read them when needed
            cached = _Cached()
        else:
            self.size -= len(cached.ids)
            if cached.ids and ids[0] <= cached.ids[-1]:
                return
        cached.ids.extend(ids)
        cached.plain.extend(plain)
        cached.used = time.monotonic()
        self.entries[key] = cached
        self.size += len(cached.ids)
        while self.size > self.max_events and len(self.entries) > 1:
            _, evicted = self.entries.popitem(last=False)
            self.size -= len(evicted.ids)

    def drop(self, key: str) -> None:
        cached = self.entries.pop(key, None)
        if cached is not None:
            self.size -= len(cached.ids)

    def _forget_idle(self, now: float) -> None:
        while self.entries:
            key, oldest = next(iter(self.entries.items()))
            if now - oldest.used < self.idle_seconds:
                return
            self.drop(key)


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    rows: int  # the conversation's rows in the table right after the save
    top: int  # and the highest id among them
    length: int  # the tracker's events when it was saved
    used: float


class _TrackerCache:
    """The tracker this process saved last, per conversation, handed back as it is on
    the next read (Rasa rebuilt it from every event of the conversation on each turn).

    A kept tracker is handed out only while the table holds exactly the rows it held
    after that save (another process writing, an erasure or retention changes the count
    or the highest id), and only when the tracker has not changed since (a turn that
    failed before saving). Handing out takes it from the cache: the next save puts it
    back. Only trackers whose events are all of their latest session are kept, as
    that is what a read returns (`_since_last_session`)."""

    def __init__(self, max_events: int = TRACKER_CACHE_MAX_EVENTS,
                 idle_seconds: float = CACHE_IDLE_SECONDS) -> None:
        self.max_events = max_events
        self.idle_seconds = idle_seconds
        self.entries: OrderedDict[str, _Kept] = OrderedDict()
        self.size = 0
        self.served = 0  # trackers handed back (a measure for tests)

    def take(self, conn: Any, key: str) -> DialogueStateTracker | None:
        kept = self.entries.pop(key, None)
        if kept is None:
            return None
        self.size -= kept.length
        if (time.monotonic() - kept.used > self.idle_seconds
                or len(kept.tracker.events) != kept.length):
            return None
        rows, top = conn.execute(_statements().count_top, {"key": key}).one()
        if (rows, top) != (kept.rows, kept.top):
            return None
        self.served += 1
        return kept.tracker

    def keep(self, key: str, tracker: DialogueStateTracker, rows: int, top: int | None) -> bool:
        """Keep a tracker just saved; False when it cannot be (more than one session)."""
        self.drop(key)
        if top is None or not _one_session(tracker):
            return False
        now = time.monotonic()
        self.entries[key] = _Kept(tracker, rows, top, len(tracker.events), now)
        self.size += len(tracker.events)
        while self.entries:
            oldest_key, oldest = next(iter(self.entries.items()))
            if self.size <= self.max_events and now - oldest.used < self.idle_seconds:
                break
            self.drop(oldest_key)
        return True

    def drop(self, key: str) -> None:
        kept = self.entries.pop(key, None)
        if kept is not None:
            self.size -= kept.length


def _one_session(tracker: DialogueStateTracker) -> bool:
    """Whether a read would return all of this tracker's events (none is older than
    its latest session start)."""
    starts = [e.timestamp for e in tracker.events if isinstance(e, SessionStarted)]
    if not starts:
        return True
    start = max(starts)
    return all((e.timestamp or 0) >= start for e in tracker.events)


def _since_last_session(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's rule (SQLTrackerStore._event_query): the events from the timestamp of the
    latest `session_started` on, or all of them when there is none."""
    starts = [e.get("timestamp") or 0 for e in events if e.get("event") == "session_started"]
    if not starts:
        return events
    start = max(starts)
    return [e for e in events if (e.get("timestamp") or 0) >= start]


def new_tracker(store: Any, sender_id: str, append_action_listen: bool) -> DialogueStateTracker:
    """A conversation's new tracker, made as Rasa's `TrackerStore.create_tracker` makes
    it, by `store`, but not saved yet. Rasa creates one only when `retrieve` found no
    tracker: with a domain, that means no row of this conversation is stored (a read
    returns every stored conversation, from its latest session on), so none of its
    events is stored yet. Rasa saved the new tracker at once (its opening
    `action_listen` alone: a transaction per conversation's first message) and then
    counted the stored rows with a query at the end of the turn; the turn's save now
    stores all of it. A turn that fails before that save leaves nothing stored, as it
    left a conversation with nothing in it before."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted

    tracker: DialogueStateTracker = store.init_tracker(sender_id)
    if append_action_listen:
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    if store.domain:  # a wrapper's domain is its primary store's
        setattr(tracker, STORED, 0)
    return tracker


def create_through_failsafe() -> None:
    """Rasa's agent wraps the configured store in `FailSafeTrackerStore`
    (rasa/core/agent.py, `_create_tracker_store`), whose `create_tracker` is
    `TrackerStore`'s own: it never reached ours. With our store inside, the new tracker
    is now made as ours makes it (`new_tracker`), and saved with the turn through the
    wrapper, as before (the primary store, or Rasa's in-memory fallback when that
    fails)."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    rasas = FailSafeTrackerStore.create_tracker
    if getattr(rasas, "_mijnstem", False):
        return

    async def create_tracker(self: Any, sender_id: str,
                             append_action_listen: bool = True) -> DialogueStateTracker:
        primary = self._tracker_store
        if not isinstance(primary, EncryptedSQLTrackerStore):
            return await rasas(self, sender_id, append_action_listen)
        return new_tracker(self, sender_id, append_action_listen)

    create_tracker._mijnstem = True  # type: ignore[attr-defined]
    FailSafeTrackerStore.create_tracker = create_tracker  # type: ignore[method-assign]


@dataclass(frozen=True)
class _Statements:
    """The store's queries on every turn, built once with bound parameters. A new
    statement cost SQLAlchemy about 0.35 ms to build and run (building it, then
    working out its cache key), one built once about 0.05 ms on SQLite."""

    count_top: Any  # a conversation's row count and highest id
    count_top_upto: Any  # the same, up to an id
    count_top_erased: Any  # the same, and when it was erased
    newest: Any  # its `n` newest ids, its row count and when it was erased
    rows: Any  # its rows (id, data), in stored order
    rows_after: Any  # its rows after an id
    insert: Any


@functools.cache
def _statements() -> _Statements:
    table = tracker_events.events
    tombstones = tracker_events.erased_sender

    def mine() -> Any:
        return table.c.sender_id == sa.bindparam("key")

    erased = (sa.select(tombstones.c.erased_at)
              .where(tombstones.c.sender_id == sa.bindparam("key")).scalar_subquery())
    count_top = sa.select(sa.func.count(), sa.func.max(table.c.id))
    return _Statements(
        count_top=count_top.where(mine()),
        count_top_upto=count_top.where(mine(), table.c.id <= sa.bindparam("upto")),
        count_top_erased=count_top.add_columns(erased).where(mine()),
        newest=sa.select(table.c.id, sa.func.count().over(), erased).where(mine())
        .order_by(table.c.id.desc()).limit(sa.bindparam("n")),
        rows=sa.select(table.c.id, table.c.data).where(mine()).order_by(table.c.id),
        rows_after=sa.select(table.c.id, table.c.data)
        .where(mine(), table.c.id > sa.bindparam("after")).order_by(table.c.id),
        insert=table.insert(),
    )


def _moment(value: Any) -> float | None:
    return None if value is None else float(value)


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

    engine: Any
    sessionmaker: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        log_privacy.install()
        speedups.install()
        create_through_failsafe()
        self.codec = _codec_from_environment()
        self.cache = _EventCache()
        self.trackers = _TrackerCache()
        path = sqlite_path(str(kwargs.get("host") or kwargs.get("url") or ""))
        if path is not None:
            ensure_private_file(path)  # 0600 before SQLite creates it
        super().__init__(*args, **kwargs)
        engine = self.engine
        if engine.dialect.name == "postgresql":
            # Rasa's engine hands out pooled connections unchecked: after a PostgreSQL
            # restart every one of them would fail a child's message once. Test each
            # connection as it leaves the pool instead.
            from rasa.core.tracker_store import create_engine_kwargs

            url = engine.url
            engine.dispose()
            engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.engine = engine
            self.sessionmaker = sessionmaker(bind=engine)
        if self.engine.dialect.name == "sqlite" and path is not None:
            # SQLAlchemy 1.4 gives a SQLite file no pool: every read and save of a
            # tracker opened a new connection and set its pragmas again (8 % of Rasa's
            # time under load). Keep a few open; Rasa uses them from its event loop.
            from sqlalchemy.pool import QueuePool

            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url, poolclass=QueuePool, pool_size=4, max_overflow=4,
                connect_args={"check_same_thread": False},
            )
            self.sessionmaker = sessionmaker(bind=self.engine)
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
        key = self.codec.sender_key(sender_id)
        with self.session_scope() as session:
            if not fetch_events_from_all_sessions and self.domain:
                kept = self.trackers.take(session.connection(), key)
                if kept is not None:
                    return kept
            stored = self.cache.events(session.connection(), key, self.codec)
        events = stored if fetch_events_from_all_sessions else _since_last_session(stored)
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if len(tracker.events) == len(events):
                # Exactly the stored events (Rasa's save would count them with a query
                # of its own): a tracker rebuilt here, such as every conversation's
                # second turn, whose first tracker began before its session started.
                setattr(tracker, STORED, len(events))
            return tracker
        return None

    async def create_tracker(
        self, sender_id: str, append_action_listen: bool = True
    ) -> DialogueStateTracker:
        """Rasa's `create_tracker`, which Rasa calls only when `retrieve` found no
        tracker (the store itself, or `FailSafeTrackerStore` around it: see
        `create_through_failsafe`)."""
        return new_tracker(self, sender_id, append_action_listen)

    def _write(self, conn: Any, key: str, new_events: list[Any]) -> tuple[
            list[tuple[dict[str, Any], str]], list[int], int, int | None, float | None]:
        """Store `new_events` of the conversation `key`. Returns the rows written (row,
        plaintext), their ids, the conversation's row count and highest id after, and
        when it was erased (None: never), all read back in one query."""
        statements = _statements()
        written = [self.codec.row_and_text(key, event.as_dict()) for event in new_events]
        if not written:
            rows, top, erased_at = conn.execute(
                statements.count_top_erased, {"key": key}).one()
            return written, [], int(rows), top, _moment(erased_at)
        conn.execute(statements.insert, [row for row, _ in written])
        # This conversation's newest rows are these: its turns are handled one at a
        # time (Rasa's lock store), so nobody else writes them meanwhile. The window
        # function counts all of its rows in the same query.
        newest = conn.execute(statements.newest, {"key": key, "n": len(written)}).all()
        ids = sorted(int(row[0]) for row in newest)
        return written, ids, int(newest[0][1]), ids[-1], _moment(newest[0][2])

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        key = self.codec.sender_key(tracker.sender_id)
        with self.session_scope() as session:
            conn = session.connection()
            stored = getattr(tracker, STORED, None)
            if isinstance(stored, int) and 0 <= stored <= len(tracker.events):
                # A tracker saved before by this store (and, on a later turn, handed
                # back by the cache only while its rows were untouched), or rebuilt
                # from its rows: its first `stored` events are in the table, so the
                # rest is new. Rasa counts the rows since the latest stored session
                # start instead, which stores a tracker that has just started a
                # session twice over.
                new_events = list(tracker.events)[stored:]
            else:
                new_events = list(self._additional_events(session, tracker))
            written, ids, rows, top, erased = self._write(conn, key, new_events)
            first = tracker.events[0].timestamp if tracker.events else None
            if erased is not None and first is not None and first <= erased:
                # This tracker was read before its conversation was erased (the child
                # confirmed "vergeet mij" in this very turn, or a caseworker ran
                # `forget` meanwhile). Keep only what happened after the erasure; the
                # rewrite is idempotent, so a second save in the same turn is safe.
                # (The erasure is rare: it is learnt from the same query as the new
                # rows' ids, and what was just written goes with the rest.)
                conn.execute(
                    tracker_events.events.delete().where(
                        tracker_events.events.c.sender_id == key
                    )
                )
                written, ids, rows, top, _ = self._write(
                    conn, key, [e for e in tracker.events if (e.timestamp or 0) > erased])
            else:
                erased = None
            session.commit()
        if erased is None:
            # All of this tracker's events are stored now: a second save of the same
            # object (Rasa saves at a session's start and at the turn's end) or its
            # next turn, once the cache hands it back, stores only what follows.
            setattr(tracker, STORED, len(tracker.events))
            self.cache.extend(key, ids, [text for _, text in written], int(rows))
            self.trackers.keep(key, tracker, int(rows), top)
        else:
            if hasattr(tracker, STORED):
                delattr(tracker, STORED)
            self.cache.drop(key)
            self.trackers.drop(key)
