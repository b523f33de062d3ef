"""Erase, export, retention and rotation with both databases on PostgreSQL."""

from __future__ import annotations

import os
import time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.privacy import retention, tracker_db, tracker_events
from bot.privacy.erase import Scope, forget_chat, forget_child
from bot.privacy.export import export_child
from bot.privacy.rotate import rotate_all
from bot.settings import load_settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Child, Wish
from tests.conftest import make_test_env
from tests.privacy.conftest import plant_child, plant_events, user_event
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

SECRET = "op postgres woont een geheime egel"


def test_privacy_on_postgresql(postgres: PostgresServer, tmp_path):
    tag = f"{os.getpid()}_{time.monotonic_ns()}"
    app_url = postgres.create_database(f"priv_app_{tag}")
    tracker_url = postgres.create_database(f"priv_tracker_{tag}")
    old_key = Fernet.generate_key().decode()
    base = make_test_env(tmp_path / "var", DATABASE_URL=app_url, TRACKER_DB_URL=tracker_url)
    settings = load_settings({**base, "MIJNSTEM_ENCRYPTION_KEYS": old_key})
    engine = make_engine(settings)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)

    first = plant_child(settings, sessions, SECRET, sender_id="tg-pg1")
    second = plant_child(settings, sessions, SECRET, sender_id="tg-pg2")
    plant_events(settings, "tg-old", [user_event(SECRET, time.time() - 100 * 86400)])

    exported = export_child(settings, sessions, first.child_id)
    assert exported["stored_data"]["wish"][0]["text"] == f"wish: {SECRET}"

    report = forget_chat(settings, sessions, first.sender_id)
    assert report.tracker_events == 3 and report.rows["wish"] == 1
    assert retention.run_once(settings, sessions).events_purged == 1

    # Rotate to a new key; then only the new key is needed.
    new_key = Fernet.generate_key().decode()
    rotated = load_settings({**base, "MIJNSTEM_ENCRYPTION_KEYS": f"{new_key},{old_key}"})
    rotate_all(rotated, sessions)
    engine.dispose()
    only_new = load_settings({**base, "MIJNSTEM_ENCRYPTION_KEYS": new_key})
    engine = make_engine(only_new)
    sessions = make_session_factory(engine)
    assert export_child(only_new, sessions, second.child_id)["stored_data"]["wish"][0][
        "text"] == f"wish: {SECRET}"

    forget_child(only_new, sessions, second.child_id, Scope.FULL)
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Wish)) == 0
        assert session.scalar(select(func.count()).select_from(Child)) == 1  # the first
    with tracker_db.tracker_transaction(only_new) as conn:
        assert conn.execute(select(func.count()).select_from(tracker_events.events)).scalar() == 0
    engine.dispose()
