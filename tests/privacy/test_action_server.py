"""The action server answers only our Rasa: without the shared secret header every
request but /health is refused (the real server process, on a free loopback port)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.action_server import ACTION_SECRET_HEADER
from tests.support.action_server import running_action_server


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    var = tmp_path_factory.mktemp("actions") / "var"
    with running_action_server(var) as (base, settings):
        yield base, settings.action_secret


def call(url: str, body: dict | None = None, headers: dict[str, str] | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


ACTION_CALL = {
    "next_action": "action_link_chat",
    "sender_id": "rest-probe",
    "version": "3.6.2",
    "domain": {},
    "tracker": {"sender_id": "rest-probe", "slots": {}, "latest_message": {
        "text": "/safety_alarm", "intent": {"name": "safety_alarm"}, "entities": []},
        "events": [], "latest_action_name": "action_listen", "paused": False,
        "followup_action": None, "active_loop": {}, "latest_event_time": None},
}


def test_health_stays_open(action_server: tuple[str, str]) -> None:
    base, _ = action_server
    assert call(base + "/health") == 200


def test_requests_without_the_secret_are_refused(action_server: tuple[str, str]) -> None:
    base, secret = action_server
    assert call(base + "/webhook", ACTION_CALL) == 403
    assert call(base + "/webhook", ACTION_CALL, {ACTION_SECRET_HEADER: "wrong"}) == 403
    assert call(base + "/webhook", ACTION_CALL, {ACTION_SECRET_HEADER: secret[:-1]}) == 403
    assert call(base + "/actions") == 403


def test_our_rasa_with_the_secret_is_served(action_server: tuple[str, str]) -> None:
    base, secret = action_server
    assert call(base + "/actions", headers={ACTION_SECRET_HEADER: secret}) == 200
    assert call(base + "/webhook", ACTION_CALL, {ACTION_SECRET_HEADER: secret}) == 200
