"""Run by test_tracker_store.py with .venv-rasa's Python: the decrypted-event cache of
EncryptedSQLTrackerStore over several turns, across two store instances (two Rasa
processes on one database), through an erasure and over conversation sessions."""

from __future__ import annotations

import asyncio
import json
import sys

from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import EventVerbosity

from bot.nlu.tracker_store import EncryptedSQLTrackerStore
from bot.privacy import tracker_events
from tests.privacy.rasa_store_probe import DOMAIN


def _texts(tracker) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


def _rows(store: EncryptedSQLTrackerStore, sender: str) -> int:
    """How many events of this conversation are stored."""
    with store.engine.connect() as conn:
        return len(conn.execute(tracker_events.events.select().where(
            tracker_events.events.c.sender_id == store.codec.sender_key(sender))).fetchall())


async def main(db_path: str) -> dict:
    url = f"sqlite:///{db_path}"
    out: dict = {}
    one = EncryptedSQLTrackerStore(domain=DOMAIN, host=url)
    two = EncryptedSQLTrackerStore(domain=DOMAIN, host=url)
    sender = "web-cache"
    tracker = one.init_tracker(sender)
    same = []
    for n in range(20):
        tracker.update(UserUttered(f"bericht {n}", {"name": "inform", "confidence": 1.0}))
        tracker.update(BotUttered(f"antwoord {n}"))
        tracker.update(ActionExecuted("action_listen"))
        await one.save(tracker)
        got = await one.retrieve(sender)
        same.append(got is tracker)
        tracker = got
    out["turns_decoded"] = one.cache.decoded  # what it wrote itself: never decrypted
    out["events"] = len(tracker.events)
    out["served"] = one.trackers.served  # the saved tracker itself, after each save
    out["same_object"] = all(same)
    before = one.cache.decoded
    again = await one.retrieve(sender)  # taken already: built from the (cached) rows
    out["unchanged_decoded"] = one.cache.decoded - before
    out["rebuilt_equal"] = again.current_state(EventVerbosity.ALL) == tracker.current_state(
        EventVerbosity.ALL)

    # A turn that failed before it was saved: its events are not served from memory.
    await one.save(again)
    failed = await one.retrieve(sender)
    failed.update(UserUttered("niet bewaard", {"name": "inform", "confidence": 1.0}))
    out["unsaved_served"] = "niet bewaard" in _texts(await one.retrieve(sender))

    # Another process writes a turn: the first sees it, decrypting only that turn.
    other = await two.retrieve(sender)
    other.update(UserUttered("van de ander", {"name": "inform", "confidence": 1.0}))
    await two.save(other)
    before = one.cache.decoded
    out["sees_other"] = _texts(await one.retrieve(sender))[-1]
    out["other_decoded"] = one.cache.decoded - before

    # A new session: what Rasa's own SQL query returns, from the cache.
    latest = await one.retrieve(sender)
    latest.update(SessionStarted())
    latest.update(UserUttered("nieuwe sessie", {"name": "inform", "confidence": 1.0}))
    await one.save(latest)
    with one.session_scope() as session:
        rasa_count = one._event_query(session, sender, False).count()
    out["session_events"] = [len((await one.retrieve(sender)).events), rasa_count]
    out["all_sessions"] = len((await one.retrieve_full_tracker(sender)).events) > rasa_count
    # Every event stored once, whichever way the store knew what was new.
    out["rows_match"] = [_rows(one, sender),
                         len((await one.retrieve_full_tracker(sender)).events)]

    # Erased elsewhere (the app's "vergeet mij"), then a new turn: nothing old is served.
    kept = await one.retrieve(sender)
    kept.update(UserUttered("nog een", {"name": "inform", "confidence": 1.0}))
    await one.save(kept)  # kept in memory again (the new session only)
    # A kept tracker starts a new session and is saved twice in one turn, as Rasa does.
    again = await one.retrieve(sender)
    out["kept_again"] = again is kept
    again.update(SessionStarted())
    again.update(UserUttered("derde sessie", {"name": "inform", "confidence": 1.0}))
    await one.save(again)
    again.update(BotUttered("welkom terug"))
    await one.save(again)
    out["twice_rows"] = [_rows(one, sender),
                         len((await one.retrieve_full_tracker(sender)).events),
                         _texts(await one.retrieve(sender))]
    with two.engine.begin() as conn:
        tracker_events.erase(conn, [two.codec.sender_key(sender)])
    out["after_erasure"] = await one.retrieve(sender) is None
    fresh = one.init_tracker(sender)
    fresh.update(UserUttered("opnieuw", {"name": "inform", "confidence": 1.0}))
    await one.save(fresh)
    out["after_new_turn"] = _texts(await one.retrieve(sender))

    # A conversation's first message: Rasa creates the tracker (nothing stored, so no
    # count of stored rows), here too for a conversation erased before, then saves the
    # session start and the turn. Every event is stored once, with the turn: creating
    # the tracker stores nothing. Rasa's agent wraps the
    # store in FailSafeTrackerStore, which creates the tracker: so does the probe. The
    # second turn gets a tracker rebuilt from the rows (the first one's opening
    # action_listen came before its session), which knows what is stored too.
    counted: list[str] = []
    rasas_count = EncryptedSQLTrackerStore._additional_events

    def counting(self, session, tracker):  # type: ignore[no-untyped-def]
        counted.append(tracker.sender_id)
        return rasas_count(self, session, tracker)

    EncryptedSQLTrackerStore._additional_events = counting  # type: ignore[method-assign]
    failsafe = FailSafeTrackerStore(one)
    firsts = []
    for new_sender in ("web-first-message", sender):
        if new_sender == sender:
            with two.engine.begin() as conn:
                tracker_events.erase(conn, [two.codec.sender_key(sender)])
        created = await failsafe.get_or_create_tracker(new_sender)
        at_creation = _rows(one, new_sender)
        created.update(SessionStarted())
        created.update(UserUttered("/start", {"name": "link_chat", "confidence": 1.0}))
        await failsafe.save(created)
        created.update(BotUttered("welkom"))
        await failsafe.save(created)
        first = [_rows(one, new_sender), len(created.events),
                 _texts(await failsafe.retrieve(new_sender))]
        second = await failsafe.get_or_create_tracker(new_sender)
        rebuilt = second is not created
        second.update(UserUttered("hoi", {"name": "greet", "confidence": 1.0}))
        await failsafe.save(second)
        firsts.append([*first, rebuilt, _rows(one, new_sender), len(second.events),
                       _texts(await failsafe.retrieve(new_sender)), at_creation])
    out["first_messages"] = firsts
    out["counted"] = counted
    return out


if __name__ == "__main__":
    print("PROBE " + json.dumps(asyncio.run(main(sys.argv[1]))))
