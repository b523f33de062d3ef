"""Engine and session factory, created by whoever starts the process."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from bot.storage.crypto import Cipher, set_cipher
from bot.storage.files import ensure_private_dir, ensure_private_file, sqlite_path


def _normalise_url(url: str) -> str:
    # Plain postgresql:// URLs would select psycopg2, which we do not ship.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    set_cipher(Cipher(settings.encryption_keys))
    db_url = _normalise_url(url or settings.database_url)
    if db_url.startswith("sqlite:///"):
        ensure_private_dir(settings.var_dir)
        path = sqlite_path(db_url)
        if path is not None:
            # 0600 before SQLite creates it (its -wal and -shm files copy the mode).
            ensure_private_file(path)
    engine = create_engine(db_url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            # Erased rows are overwritten on disk, not just unlinked.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
