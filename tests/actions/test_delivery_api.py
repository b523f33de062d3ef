"""The action server's delivery routes (bot/loop/delivery_api.py), on the real server
process on a free loopback port: behind the action secret, one chat sees only its own
child's answers, and an acknowledged answer is not delivered again."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from bot import accounts
from bot.loop import internal
from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import interview, loop, repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import ConversationSession
from tests.support.action_server import running_action_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    var = tmp_path_factory.mktemp("deliveries") / "var"
    with running_action_server(var, migrate_db=True) as running:
        yield running


def post(url: str, body: dict[str, Any], secret: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[internal.HEADER] = secret
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _child_with_answer(settings: Settings, sender: str, email: str) -> int:
    engine = make_engine(settings)
    try:
        with make_session_factory(engine).begin() as session:
            sanne = accounts.create(session=session, email=email, name="Sanne de Vries")
            child = repo.create_child(session=session, display_name="N", age=9,
                                      age_group="6-9", caseworker=sanne)
            session.add(ConversationSession(
                child_id=child.id, channel="web",
                sender_hash=sender_hash(settings.pseudonym_secret, sender)))
            wish = repo.add_wish(session=session, child_id=child.id, session_id=None,
                                 text="een hond")
            interview.decide(session=session, child_id=child.id, refs=[f"wish:{wish.id}"],
                             shared=True)
            summary = interview.send_shared(
                session=session, child=child, body="x",
                items=interview.items_to_send(session=session, child_id=child.id))
            (follow_up,) = loop.open_follow_ups_for_summary(session=session, child=child,
                                                            summary=summary)
            return loop.add_reply(session=session, follow_up=follow_up, by=sanne,
                                  status="kan_niet", text="Een hond mag niet in huis.").id
    finally:
        engine.dispose()


def test_pending_and_ack(server: tuple[str, Settings]):
    base, settings = server
    pending, ack = base + internal.PENDING_PATH, base + internal.ACK_PATH
    secret = settings.action_secret
    assert post(pending, {"sender": "web-a"}, None)[0] == 403
    assert post(pending, {"sender": "web-a"}, "wrong")[0] == 403
    assert post(pending, {"sender": ""}, secret)[0] == 400
    assert post(pending, {"sender": "web-nobody"}, secret) == (200, {"deliveries": []})

    mine = _child_with_answer(settings, "web-a", "a@example.org")
    other = _child_with_answer(settings, "web-b", "b@example.org")
    status, body = post(pending, {"sender": "web-a"}, secret)
    assert status == 200
    assert body["deliveries"] == [{
        "reply_id": mine, "status": "kan_niet", "text": "Een hond mag niet in huis.",
        "signed_as": "Sanne", "kind": "wish", "words": "een hond"}]
    # One chat cannot mark another child's answer as seen.
    assert post(ack, {"sender": "web-a", "reply_ids": [other]}, secret) == (
        200, {"acknowledged": []})
    assert post(ack, {"sender": "web-a", "reply_ids": ["x"]}, secret)[0] == 400
    assert post(ack, {"sender": "web-a", "reply_ids": [mine]}, secret) == (
        200, {"acknowledged": [mine]})
    assert post(ack, {"sender": "web-a", "reply_ids": [mine]}, secret) == (
        200, {"acknowledged": []})
    assert post(pending, {"sender": "web-a"}, secret) == (200, {"deliveries": []})
    assert [d["reply_id"] for d in post(pending, {"sender": "web-b"}, secret)[1][
        "deliveries"]] == [other]


def test_both_routes_answer_503_while_the_database_cannot_be_asked(
    server: tuple[str, Settings]
):
    """The table the routes read is renamed away under the running server (a real
    SQLite error, no mock), then put back."""
    base, settings = server
    secret = settings.action_secret
    mine = _child_with_answer(settings, "web-c", "c@example.org")
    engine = make_engine(settings)
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE follow_up_reply RENAME TO follow_up_reply_away"))
        try:
            assert post(base + internal.PENDING_PATH, {"sender": "web-c"}, secret) == (
                503, None)
            assert post(base + internal.ACK_PATH, {"sender": "web-c", "reply_ids": [mine]},
                        secret) == (503, None)
        finally:
            with engine.begin() as connection:
                connection.execute(
                    text("ALTER TABLE follow_up_reply_away RENAME TO follow_up_reply"))
    finally:
        engine.dispose()
    # Back: nothing was lost or marked while the database could not be asked.
    status, body = post(base + internal.PENDING_PATH, {"sender": "web-c"}, secret)
    assert status == 200 and [d["reply_id"] for d in body["deliveries"]] == [mine]
