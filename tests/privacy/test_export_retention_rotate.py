"""Export, retention and key rotation on real SQLite files."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta

from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from bot.privacy import retention, tracker_db, tracker_events
from bot.privacy.export import export_child
from bot.privacy.rotate import rotate_all
from bot.settings import Settings, load_settings
from bot.storage.crypto import Cipher
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Child, LinkAttempt, Wish, utcnow
from tests.conftest import make_test_env
from tests.privacy.conftest import (
    bot_event,
    plant_child,
    plant_events,
    slot_event,
    user_event,
)

SECRET = "mijn geheime wens is een blauwe fiets"
DAY = 24 * 3600


def _events(settings: Settings, sender_id: str) -> list[dict]:
    codec = tracker_db.codec(settings)
    with tracker_db.tracker_transaction(settings) as conn:
        return [e for _, e in tracker_events.stored_events(
            conn, codec, [codec.sender_key(sender_id)])]


# --- export ------------------------------------------------------------------------------

def test_export_holds_everything_decrypted(psettings: Settings, sessions: sessionmaker[Session]):
    planted = plant_child(psettings, sessions, SECRET)
    data = export_child(psettings, sessions, planted.child_id)

    stored = data["stored_data"]
    assert stored["child"][0]["display_name"] == "Noor"
    assert stored["wish"][0]["text"] == f"wish: {SECRET}"
    assert stored["shared_summary"][0]["body"] == f"summary: {SECRET}"
    assert stored["alert"][0]["excerpt"] == f"alert: {SECRET}"
    assert stored["pending_message"][0]["text"] == f"pending: {SECRET}"
    assert len(stored["conversation_session"]) == 2
    chats = data["conversations"]
    lines = [line for chat in chats for line in chat["events"]]
    assert {"from": "child", "text": f"tracker: {SECRET}"}.items() <= lines[0].items()
    assert any(line.get("text") == f"web tracker: {SECRET}" for line in lines)
    text = json.dumps(data)
    # Internal pseudonyms are left out.
    assert "sender_hash" not in text and "token_hash" not in text
    assert planted.sender_id not in text


def test_export_command_writes_a_private_file(psettings: Settings, sessions, tmp_path,
                                              monkeypatch):
    planted = plant_child(psettings, sessions, SECRET)
    for key, value in make_test_env(psettings.var_dir,
                                    DATABASE_URL=psettings.database_url,
                                    TRACKER_DB_URL=psettings.tracker_db_url).items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "export.json"
    assert main(["export", str(planted.child_id), "-o", str(out)]) == 0
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert json.loads(out.read_text())["stored_data"]["wish"][0]["text"] == f"wish: {SECRET}"
    assert main(["export", "999"]) == 2


# --- retention ---------------------------------------------------------------------------

def test_old_tracker_events_are_purged_and_the_place_is_kept(
    psettings: Settings, sessions: sessionmaker[Session]
):
    now = time.time()
    old, recent = now - 100 * DAY, now - 1 * DAY
    # A conversation nobody touched for 100 days: gone entirely.
    plant_events(psettings, "tg-idle", [user_event(SECRET, old), bot_event("Genoteerd.", old)])
    # A conversation in use: old messages go, the state they built stays.
    plant_events(psettings, "tg-busy", [
        user_event(SECRET, old),
        slot_event("steps_done", ["wishes"], old),
        slot_event("wish", SECRET, old),  # free text: not carried over
        # Filled by actions with the child's words: not carried over either.
        slot_event("people_list", f"• {SECRET}", old),
        slot_event("current_person", SECRET, old),
        slot_event("unsaved_wishes", [SECRET], old),
        slot_event("share_item_text", SECRET, old),
        {"event": "active_loop", "timestamp": old, "name": "wish_form", "metadata": {}},
        slot_event("age_group", "10-13", old),
        user_event("recent message", recent),
    ])
    report = retention.run_once(psettings, sessions)

    assert _events(psettings, "tg-idle") == []
    busy = _events(psettings, "tg-busy")
    assert SECRET not in json.dumps(busy)
    kept = {(e["event"], e.get("name")): e.get("value") for e in busy}
    assert kept[("slot", "steps_done")] == ["wishes"]
    assert kept[("slot", "age_group")] == "10-13"
    assert ("slot", "wish") not in kept
    assert ("active_loop", "wish_form") in kept
    assert busy[-1]["text"] == "recent message", "the snapshot comes before what is kept"
    assert not {("slot", n) for n in ("people_list", "current_person", "unsaved_wishes",
                                      "share_item_text")} & set(kept)
    assert report.events_purged == 11 and report.conversations_emptied == 1

    # A second run changes nothing: the snapshot is not purged and rebuilt every hour.
    again = retention.run_once(psettings, sessions)
    assert again.events_purged == 0
    assert _events(psettings, "tg-busy") == busy


def test_action_filled_word_slots_are_real_slots():
    from bot.domain import load_domain

    slots = set(load_domain()["slots"])
    assert slots >= retention.ACTION_FILLED_WORDS
    assert retention.free_text_slots() >= retention.ACTION_FILLED_WORDS


def test_alerts_are_deleted_after_their_retention_period(
    psettings: Settings, sessions: sessionmaker[Session]
):
    from bot.safety import alerts
    from bot.storage.models import Alert

    long_ago = utcnow() - timedelta(days=psettings.alert_retention_days + 1)
    with sessions.begin() as session:
        def make(when, **kw):  # type: ignore[no-untyped-def]
            return alerts.create_alert(session=session, sender_hash="a" * 64, channel="web",
                                       category="neglect", excerpt_text="x", child_id=None,
                                       caseworker_id=None, now=when, **kw).id
        handled_long_ago = make(long_ago)
        alerts.acknowledge(session=session, alert_id=handled_long_ago, by="a@x.org",
                           now=long_ago)
        never_handled = make(long_ago)
        handled_recently = make(long_ago)
        alerts.acknowledge(session=session, alert_id=handled_recently, by="a@x.org")
        fresh = make(utcnow())
    retention.run_once(psettings, sessions)
    with sessions.begin() as session:
        left = set(session.scalars(select(Alert.id)))
    assert left == {handled_recently, fresh}
    assert handled_long_ago not in left and never_handled not in left


def test_retention_period_is_configurable(tmp_path):
    var = tmp_path / "var"
    env = make_test_env(var, TRACKER_DB_URL=f"sqlite:///{var / 't.db'}",
                        MIJNSTEM_TRACKER_RETENTION_DAYS="7")
    settings = load_settings(env)
    engine = make_engine(settings, f"sqlite:///{var / 'app.db'}")
    from bot.storage import migrate

    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    plant_events(settings, "tg-a", [user_event("acht dagen oud", time.time() - 8 * DAY)])
    plant_events(settings, "tg-b", [user_event("zes dagen oud", time.time() - 6 * DAY)])
    retention.run_once(settings, sessions)
    assert _events(settings, "tg-a") == [] and len(_events(settings, "tg-b")) == 1
    engine.dispose()


def test_closed_cases_are_erased_after_the_retention_period(
    psettings: Settings, sessions: sessionmaker[Session]
):
    expired = plant_child(psettings, sessions, SECRET, sender_id="tg-a")
    recent = plant_child(psettings, sessions, SECRET, sender_id="tg-b")
    still_open = plant_child(psettings, sessions, SECRET, sender_id="tg-c")
    with sessions.begin() as session:
        session.get(Child, expired.child_id).closed_at = utcnow() - timedelta(days=91)
        session.get(Child, recent.child_id).closed_at = utcnow() - timedelta(days=10)
        # Kept as long as the longest back-off (a day by default).
        session.add(LinkAttempt(sender_hash="x", created_at=utcnow() - timedelta(hours=25)))
        session.add(LinkAttempt(sender_hash="y", created_at=utcnow()))

    report = retention.run_once(psettings, sessions)

    assert report.children_erased == [expired.child_id]
    with sessions.begin() as session:
        assert session.get(Child, expired.child_id) is None
        assert session.get(Child, recent.child_id) is not None
        assert session.get(Child, still_open.child_id) is not None
        assert session.scalar(select(func.count()).select_from(Wish)) == 2
        assert session.scalar(select(func.count()).select_from(LinkAttempt)) == 1
    assert _events(psettings, expired.sender_id) == []
    assert len(_events(psettings, recent.sender_id)) == 2


def test_close_command(psettings: Settings, sessions, monkeypatch, capsys):
    planted = plant_child(psettings, sessions, SECRET)
    for key, value in make_test_env(psettings.var_dir,
                                    DATABASE_URL=psettings.database_url,
                                    TRACKER_DB_URL=psettings.tracker_db_url).items():
        monkeypatch.setenv(key, value)
    assert main(["close", str(planted.child_id)]) == 0
    assert "will be erased after" in capsys.readouterr().out
    with sessions.begin() as session:
        assert session.get(Child, planted.child_id).closed_at is not None
    assert main(["close", str(planted.child_id), "--reopen"]) == 0
    with sessions.begin() as session:
        assert session.get(Child, planted.child_id).closed_at is None


def test_worker_lists_the_retention_job():
    from bot.worker import JOBS, _load

    job = next(j for j in JOBS if j.target == "bot.privacy.retention:run_once")
    assert _load(job.target) is retention.run_once


# --- key rotation ------------------------------------------------------------------------

def test_rotate_keys_reencrypts_under_the_newest_key(tmp_path, monkeypatch):
    var = tmp_path / "var"
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    base = make_test_env(var, DATABASE_URL=f"sqlite:///{var / 'app.db'}",
                         TRACKER_DB_URL=f"sqlite:///{var / 't.db'}")
    old_settings = load_settings({**base, "MIJNSTEM_ENCRYPTION_KEYS": old_key})
    engine = make_engine(old_settings)
    from bot.storage import migrate

    migrate.upgrade(engine)
    planted = plant_child(old_settings, make_session_factory(engine), SECRET)
    # A row left in clear by Rasa's plain SQL store (before this version).
    with tracker_db.tracker_transaction(old_settings) as conn:
        conn.execute(tracker_events.events.insert().values(
            sender_id="web-legacy", type_name="user", timestamp=time.time(),
            intent_name="inform", action_name=None,
            data=json.dumps(user_event("legacy plain text"))))
    engine.dispose()

    rotated = {**base, "MIJNSTEM_ENCRYPTION_KEYS": f"{new_key},{old_key}"}
    for key, value in rotated.items():
        monkeypatch.setenv(key, value)
    assert main(["rotate-keys"]) == 0

    # Now only the new key is needed.
    new_settings = load_settings({**base, "MIJNSTEM_ENCRYPTION_KEYS": new_key})
    engine = make_engine(new_settings)
    data = export_child(new_settings, make_session_factory(engine), planted.child_id)
    engine.dispose()
    assert data["stored_data"]["wish"][0]["text"] == f"wish: {SECRET}"
    assert data["conversations"][0]["events"][0]["text"] == f"tracker: {SECRET}"
    legacy = _events(new_settings, "web-legacy")
    assert legacy[0]["text"] == "legacy plain text"
    with tracker_db.tracker_transaction(new_settings) as conn:
        rows = conn.execute(select(tracker_events.events)).all()
    assert all(r.intent_name is None and r.data.startswith("gAAAA") for r in rows)
    assert "web-legacy" not in {r.sender_id for r in rows}
    Cipher((new_key,)).decrypt(rows[0].data)
    assert os.environ["MIJNSTEM_ENCRYPTION_KEYS"].startswith(new_key)


def test_rotate_all_counts(psettings: Settings, sessions: sessionmaker[Session]):
    plant_child(psettings, sessions, SECRET)
    report = rotate_all(psettings, sessions)
    assert report.app_values["wish"] == 1 and report.tracker_events == 3
