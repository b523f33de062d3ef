"""Only our own commands pass Rasa's REST channel (real Rasa and action server):
typed `/restart`, `/ restart` and `/safety_alarm` are read as text, offered buttons
still work, a chat is never moved to another child, and bodies that are too large are
refused before they are read."""

from __future__ import annotations

import contextlib
import http.client
import json
import urllib.parse

import pytest

from tests.e2e.conftest import texts
from tests.e2e.stack import Stack
from tests.e2e.test_privacy import (
    app_rows,
    linked_chat,
    new_child,
    post_raw,
    tracker_events_of,
    variants,
)

pytestmark = pytest.mark.e2e


def _intents(stack: Stack, sender: str) -> list[str | None]:
    return [(e.get("parse_data") or {}).get("intent", {}).get("name")
            for e in tracker_events_of(stack, sender) if e["event"] == "user"]


def test_typed_intents_do_not_restart_or_alarm(stack: Stack) -> None:
    child_id, sender = linked_chat(stack, "rest-e2e-cmd")
    for typed in ("/restart", "/ restart", "  /restart", "/safety_alarm",
                  '/safety_alarm{"x": 1}', "/session_start"):
        reply = texts(stack.say(sender, typed))
        assert reply, typed
        assert not any("112" in t for t in reply), (typed, reply)
    events = tracker_events_of(stack, sender)
    assert not [e for e in events if e["event"] in ("restart", "reset_slots", "session_started")
                and e.get("timestamp", 0) > events[2].get("timestamp", 0)]
    intents = _intents(stack, sender)
    assert not {"restart", "safety_alarm", "session_start"} & set(intents), intents
    key = app_rows(stack, "SELECT count(*) FROM alert WHERE child_id = ?", child_id)
    assert key == [(0,)]
    # The interview goes on where it was (typed at the wish question, "restart" is just
    # the child's words): the chat is still linked, nothing starts over.
    reply = texts(stack.say(sender, "ik wil mijn eigen fiets"))
    assert reply and not set(reply) & (variants("utter_ask_code") | variants("utter_welcome"))
    slots = {e["name"]: e.get("value") for e in tracker_events_of(stack, sender)
             if e["event"] == "slot"}
    assert slots.get("linked") is True


def test_offered_buttons_and_our_commands_still_work(stack: Stack) -> None:
    _, sender = linked_chat(stack, "rest-e2e-buttons")
    # The wish question offers /dont_know and /skip.
    reply = texts(stack.say(sender, "/skip"))
    assert not set(reply) & variants("utter_wish_saved"), reply
    assert _intents(stack, sender)[-1] == "skip"
    reply = texts(stack.say(sender, "/privacy"))
    assert set(reply) & variants("utter_privacy"), reply


def test_a_linked_chat_is_not_moved_by_a_second_code(stack: Stack) -> None:
    child_a, sender = linked_chat(stack, "rest-e2e-shared")
    child_b, code_b = new_child(stack)
    reply = texts(stack.say(sender, f"/start {code_b}"))
    assert set(reply) & variants("utter_invite_other_child"), reply
    assert not set(reply) & variants("utter_already_linked"), reply
    assert app_rows(stack, "SELECT child_id FROM conversation_session WHERE child_id IN (?, ?)",
                    child_a, child_b) == [(child_a,)]
    # B's code still works in B's own chat.
    answer = stack.say("rest-e2e-child-b", f"/start {code_b}")
    assert any(m.get("buttons") for m in answer), answer


def _status_of_post(stack: Stack, body: bytes) -> int:
    """The HTTP status for a POST, also when the server answers before reading it all."""
    url = urllib.parse.urlsplit(stack.webhook)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request("POST", url.path, body, {"Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_bodies_that_are_too_large_are_refused(stack: Stack) -> None:
    body = json.dumps({"sender": "rest-e2e-big", "message": "a" * (300 * 1024)}).encode()
    assert _status_of_post(stack, body) == 413
    # A long message below the cap is still answered (and cut).
    status, _, answer = post_raw(
        stack, json.dumps({"sender": "rest-e2e-big", "message": "b" * (120 * 1024)}).encode())
    assert status == 200 and answer
