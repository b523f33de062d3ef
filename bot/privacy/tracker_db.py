"""The tracker database seen from the app side (CLI, action server, worker).

Rasa writes it through `bot.nlu.tracker_store`; we open it only to erase, export, purge
and re-encrypt, with the same table layout (`bot.privacy.tracker_events`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event

from bot.privacy import tracker_events
from bot.settings import Settings
from bot.storage.files import ensure_private_file, sqlite_path


def _url(settings: Settings) -> str:
    url = settings.tracker_db_url
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_tracker_engine(settings: Settings) -> Engine:
    url = _url(settings)
    path = sqlite_path(url)
    if path is not None:
        ensure_private_file(path)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda conn, _r: tracker_events.sqlite_pragmas(conn))
    return engine


def codec(settings: Settings) -> tracker_events.EventCodec:
    return tracker_events.EventCodec(settings.encryption_keys, settings.pseudonym_secret)


@contextmanager
def tracker_transaction(settings: Settings) -> Iterator[Connection]:
    """One transaction on the tracker database; the WAL is folded in afterwards."""
    engine = make_tracker_engine(settings)
    try:
        with engine.begin() as conn:
            tracker_events.ensure_schema(conn)
            yield conn
        with engine.connect() as conn:
            tracker_events.checkpoint(conn)
    finally:
        engine.dispose()


def erase_conversations(settings: Settings, sender_keys: list[str]) -> int:
    """Delete every stored event of these conversations (keyed hashes of sender ids)."""
    if not sender_keys:
        return 0
    with tracker_transaction(settings) as conn:
        return tracker_events.erase(conn, sender_keys)
