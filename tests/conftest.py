"""Shared fixtures: settings in a temporary var dir, migrated databases (SQLite and a
throwaway PostgreSQL), and a test-wide ban on network access beyond loopback."""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings, load_settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory
from tests.support.postgres import PostgresServer, PostgresUnavailable, start_postgres
from tests.support.redis import RedisServer, RedisUnavailable, start_redis

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    """Like PTB's OfflineRequest: no test may reach past this machine (and hang)."""
    if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0])
        if not (host.startswith("127.") or host in {"::1", "localhost"}):
            raise OSError(f"network access to {host} is not allowed in tests")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


def make_test_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIJNSTEM_", "TELEGRAM_"))}
    env.pop("DATABASE_URL", None)
    # MIJNSTEM_ENV_FILE empty: a process started with this environment reads no .env.
    env.update({"MIJNSTEM_ENV": "development", "MIJNSTEM_VAR_DIR": str(var_dir),
                "MIJNSTEM_ENV_FILE": ""})
    env.update(extra)
    return env


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(make_test_env(tmp_path / "var"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = start_redis()
    except RedisUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


_db_counter = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Storage tests run on both backends; PostgreSQL gets a fresh database per test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"test_{os.getpid()}_{next(_db_counter)}")


@pytest.fixture
def engine(settings: Settings, db_url: str) -> Iterator[Engine]:
    engine = make_engine(settings, db_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(settings, f"sqlite:///{tmp_path / 'app.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)
