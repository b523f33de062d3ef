"""Issue 10, scale out: two Rasa servers and two action servers behind HAProxy, on
PostgreSQL (app DB and tracker store) and Redis (locks, rate limits). Fifty children
go through a whole interview at the same time, each message sent to the other Rasa
server than the one before; no message is lost or answered twice, and every
conversation ends in the right state in both databases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from bot import invites
from bot.age import age_group
from bot.privacy.tracker_events import EventCodec, stored_events
from bot.pseudonym import sender_hash
from bot.storage import repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import ConversationSession, SharedSummary, Wish
from tests.scale.cluster import ACTION_SERVERS, RASA_SERVERS, Cluster, start_cluster
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer

pytestmark = pytest.mark.e2e

CHATS = 50


def interview(code: str, number: int) -> list[tuple[str, str]]:
    """A whole interview: (message, words the last answer must hold)."""
    return [
        (f"/start {code}", "Wat is een wens van jou?"),
        (f"ik wil op judo {number}", "Heb je nog een wens?"),
        ("nee", "Wie zijn belangrijk voor jou?"),
        ("overslaan", "Is er iemand die je echt vertrouwt?"),
        ("overslaan", "Waar wil jij zelf over beslissen"),
        ("overslaan", "Wat moet er zeker hetzelfde blijven?"),
        ("overslaan", "Wat is er de laatste tijd veranderd?"),
        ("overslaan", "Wat wil je dat je jeugdzorgwerker weet?"),
        ("overslaan", "Wat mag je jeugdzorgwerker lezen?"),
        ("alles", "Dank je wel voor het vertellen!"),
    ]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer,
            redis_server: RedisServer) -> Iterator[Cluster]:
    running = start_cluster(Path(tmp_path_factory.mktemp("scale-out")), postgres, redis_server)
    yield running
    running.stop()


def _invite_children(cluster: Cluster, count: int) -> list[tuple[int, str]]:
    settings = cluster.stack.settings
    out = []
    with make_session_factory(make_engine(settings)).begin() as session:
        for _ in range(count):
            child = repo.create_child(session=session, display_name=None, age=12,
                                      age_group=age_group(12), caseworker=None)
            code = invites.new_code()
            repo.create_invite(session=session, child=child,
                               code_hash=invites.code_hash(settings.pseudonym_secret, code),
                               ttl=timedelta(days=1))
            session.flush()
            out.append((child.id, code))
    return out


async def _chat(http: httpx.AsyncClient, url: str, chat: str, offset: int,
                script: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One child, one message at a time, alternating between the Rasa servers."""
    turns = []
    for step, (message, _) in enumerate(script):
        route = RASA_SERVERS[(offset + step) % len(RASA_SERVERS)]
        response = await http.post(url, json={"sender": chat, "message": message},
                                   headers={"X-Mijnstem-Route": route})
        turns.append({"status": response.status_code, "route": route,
                      "served_by": response.headers.get("X-Served-By"),
                      "replies": response.json() if response.status_code == 200 else None})
    return turns


async def _all_chats(cluster: Cluster, chats: dict[str, tuple[int, list]]) -> dict[str, list]:
    limits = httpx.Limits(max_connections=CHATS, max_keepalive_connections=CHATS)
    async with httpx.AsyncClient(timeout=600, limits=limits, trust_env=False) as http:
        results = await asyncio.gather(*(
            _chat(http, cluster.rasa_url, chat, offset, script)
            for chat, (offset, script) in chats.items()))
    return dict(zip(chats, results, strict=True))


def _texts(replies: list[dict[str, Any]]) -> list[str]:
    return [r.get("text") or "" for r in replies]


def test_fifty_interviews_alternating_between_two_rasa_servers(cluster: Cluster):
    children = _invite_children(cluster, CHATS)
    chats = {f"rest-scale-{n}": (n, interview(code, n)) for n, (_, code) in enumerate(children)}
    before = cluster.served()

    started = time.monotonic()
    results = asyncio.run(_all_chats(cluster, chats))
    print(f"{CHATS} chats, {CHATS * len(interview('', 0))} messages: "
          f"{time.monotonic() - started:.0f} s")

    # Every message answered once, by the server it was sent to, with the next question.
    for chat, turns in results.items():
        script = chats[chat][1]
        assert [t["status"] for t in turns] == [200] * len(script), (chat, turns)
        assert [t["served_by"] for t in turns] == [t["route"] for t in turns]
        for (message, expected), turn in zip(script, turns, strict=True):
            assert turn["replies"], (chat, message)
            assert expected in "\n".join(_texts(turn["replies"])), (chat, message, turn)
        number = chats[chat][0]
        # The summary lists this child's own wish, nobody else's.
        summary = "\n".join(_texts(turns[-2]["replies"])).splitlines()
        listed = [line for line in summary if line.startswith("1. ")]
        assert len(listed) == 1 and listed[0].endswith(f": ik wil op judo {number}"), summary
    served = cluster.served()
    sent = CHATS * len(interview("", 0))
    assert sum(served[n] - before[n] for n in RASA_SERVERS) == sent
    assert all(served[n] - before[n] == sent // 2 for n in RASA_SERVERS), served
    assert all(served[n] > before[n] for n in ACTION_SERVERS), served  # both did work

    settings = cluster.stack.settings
    # App database: each child linked once, one wish, one shared summary.
    with make_session_factory(make_engine(settings)).begin() as session:
        for n, (child_id, _) in enumerate(children):
            wishes = session.scalars(select(Wish).where(Wish.child_id == child_id)).all()
            assert [(w.text, w.shared) for w in wishes] == [(f"ik wil op judo {n}", True)]
            links = session.scalars(select(ConversationSession.sender_hash).where(
                ConversationSession.child_id == child_id)).all()
            assert links == [sender_hash(settings.pseudonym_secret, f"rest-scale-{n}")]
            assert session.scalar(select(func.count(SharedSummary.id)).where(
                SharedSummary.child_id == child_id)) == 1

    # Tracker store: every message stored once, in order, each followed by exactly the
    # answers the child got; the interview is done and no form is left open.
    codec = EventCodec(settings.encryption_keys, settings.pseudonym_secret)
    keys = {codec.sender_key(chat): chat for chat in chats}
    events: dict[str, list[dict[str, Any]]] = {chat: [] for chat in chats}
    tracker = create_engine(settings.tracker_db_url)
    with tracker.connect() as conn:
        for key, event in stored_events(conn, codec, keys):
            events[keys[key]].append(event)
    tracker.dispose()
    for chat, turns in results.items():
        script = chats[chat][1]
        stored = events[chat]
        assert [e["text"] for e in stored if e["event"] == "user"] == [m for m, _ in script]
        answered: list[list[str]] = []
        for e in stored:
            if e["event"] == "user":
                answered.append([])
            elif e["event"] == "bot":
                answered[-1].append(e.get("text") or "")
        assert answered == [_texts(t["replies"]) for t in turns], chat
        slots = {e["name"]: e["value"] for e in stored if e["event"] == "slot"}
        assert slots.get("next_step") == "done", (chat, slots)
        loops = [e.get("name") for e in stored if e["event"] == "active_loop"]
        assert loops and loops[-1] is None, (chat, loops)
