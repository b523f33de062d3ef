"""The action server answers only our Rasa: without the shared secret header every
request but /health is refused (the real server process, on a free loopback port)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.action_server import ACTION_SECRET_HEADER
from bot.settings import PROJECT_ROOT, load_settings
from bot.stack import services
from tests.e2e.stack import free_port, stack_env


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    var = tmp_path_factory.mktemp("actions") / "var"
    env = stack_env(var, {"ACTION_PORT": str(free_port())})
    settings = load_settings(env)
    part = next(s for s in services(settings, Path("m")) if s.name == "action server")
    log = open(var.parent / "actions.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(part.argv, cwd=PROJECT_ROOT, env=part.process_env(env),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{settings.action_port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError((var.parent / "actions.log").read_text())
            try:
                with urllib.request.urlopen(base + "/health", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield base, settings.action_secret
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


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
