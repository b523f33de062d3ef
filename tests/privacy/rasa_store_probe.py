"""Run by test_tracker_store.py with .venv-rasa's Python: exercises the real
EncryptedSQLTrackerStore inside Rasa's environment and prints what it saw as JSON."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.nlu.tracker_store import EncryptedSQLTrackerStore, TrackerStoreConfigError
from bot.privacy import tracker_events

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform]
slots:
  note:
    type: text
    mappings: [{type: custom}]
responses:
  utter_ok: [{text: "ok"}]
"""
)


async def main(db_path: str, secret: str) -> dict:
    url = f"sqlite:///{db_path}"
    out: dict = {}
    store = EncryptedSQLTrackerStore(domain=DOMAIN, host=url)
    tracker = store.init_tracker("tg-probe")
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(secret, {"name": "inform", "confidence": 1.0}))
    tracker.update(SlotSet("note", secret))
    await store.save(tracker)
    again = await store.retrieve("tg-probe")
    out["roundtrip_text"] = again.latest_message.text
    out["roundtrip_slot"] = again.get_slot("note")

    # Erase the conversation while `again` is "in memory", then let Rasa save it with a
    # reply added after the erasure: only the reply may be stored.
    time.sleep(0.01)
    with store.engine.begin() as conn:
        tracker_events.erase(conn, [store.codec.sender_key("tg-probe")])
    time.sleep(0.01)
    again.update(BotUttered("alles is gewist"))
    await store.save(again)
    await store.save(again)  # a second save in the same turn changes nothing
    after = await store.retrieve("tg-probe")
    out["after_erasure"] = [e.as_dict()["event"] for e in after.events]
    out["after_erasure_has_secret"] = secret in json.dumps([e.as_dict() for e in after.events])
    # The next turn is stored normally on top.
    after.update(UserUttered("hoi", {"name": "inform", "confidence": 1.0}))
    await store.save(after)
    out["next_turn"] = [e.as_dict()["event"] for e in (await store.retrieve("tg-probe")).events]

    with sqlite3.connect(db_path) as conn:
        out["rows"] = conn.execute(
            "SELECT sender_id, intent_name, action_name, substr(data, 1, 5) FROM events"
        ).fetchall()
        out["secure_delete"] = store.engine.connect().exec_driver_sql(
            "PRAGMA secure_delete").scalar()
    try:
        await store.keys()
    except NotImplementedError:
        out["keys"] = "refused"

    # Rasa must not start without keys, with other keys, or on events in clear.
    keys = os.environ.pop("MIJNSTEM_ENCRYPTION_KEYS")
    try:
        EncryptedSQLTrackerStore(domain=DOMAIN, host=url)
    except TrackerStoreConfigError:
        out["without_keys"] = "refused"
    from cryptography.fernet import Fernet

    os.environ["MIJNSTEM_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    try:
        EncryptedSQLTrackerStore(domain=DOMAIN, host=url)
    except TrackerStoreConfigError:
        out["wrong_keys"] = "refused"
    os.environ["MIJNSTEM_ENCRYPTION_KEYS"] = keys
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) "
                     "VALUES ('x', 'user', 1, '{\"event\": \"user\"}')")
    try:
        EncryptedSQLTrackerStore(domain=DOMAIN, host=url)
    except TrackerStoreConfigError as exc:
        out["clear_events"] = "rotate-keys" in str(exc)
    return out


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], sys.argv[2]))
    print("PROBE " + json.dumps(result))
