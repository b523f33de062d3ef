"""Webhook mode: the bridge registers its URL and secret_token with (fake) Telegram,
listens on loopback, refuses calls without the secret and answers a repeated update
once. A caseworker links their chat here: that needs no Rasa."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.notify import templates
from bot.settings import load_settings
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Caseworker
from tests.conftest import make_test_env
from tests.e2e.stack import free_port
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import APP_PYTHON, PROJECT_ROOT, bridge_env, start_bridge

pytestmark = pytest.mark.e2e  # starts the bridge as a real process

CASEWORKER_CHAT = 600_100_200
SECRET = "s3cret_token-for-tests"


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([APP_PYTHON, "-m", "bot", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def _wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


def test_webhook_checks_the_secret_and_links_a_caseworker(tmp_path: Path,
                                                          tg_api: FakeTelegramAPI):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    env = bridge_env(
        make_test_env(tmp_path / "var"), tg_api,
        TELEGRAM_WEBHOOK_URL=url, TELEGRAM_WEBHOOK_PORT=str(port),
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        RASA_URL=f"http://127.0.0.1:{free_port()}",  # not needed: nothing goes to Rasa
    )
    _cli(env, "caseworker", "add", "jet@example.org", "--name", "Jet")
    code = _cli(env, "caseworker", "telegram-code", "jet@example.org").strip().splitlines()[-1]

    bridge = start_bridge(env, tmp_path / "bridge.log")
    try:
        tg_api.wait_for(lambda: tg_api.webhook.get("url") == url, timeout=60)
        assert tg_api.webhook["secret_token"] == SECRET
        assert set(tg_api.webhook["allowed_updates"]) == {
            "message", "edited_message", "callback_query"}
        _wait_for_port(port)

        update = {"update_id": 7001,
                  "message": tg_api.user_message(CASEWORKER_CHAT, text=f"/start {code}")}
        assert tg_api.post_to_webhook(url, dict(update), secret=None) == 403
        assert tg_api.post_to_webhook(url, dict(update), secret="wrong") == 403
        time.sleep(0.5)
        assert tg_api.messages_to(CASEWORKER_CHAT) == []

        assert tg_api.post_to_webhook(url, dict(update), secret=SECRET) == 200
        linked = templates.render("notify/caseworker_linked.txt", caseworker_name="Jet")
        tg_api.wait_for(lambda: tg_api.texts_to(CASEWORKER_CHAT) == [linked], timeout=30)

        # Telegram retrying the same update (same update_id) is answered once.
        assert tg_api.post_to_webhook(url, dict(update), secret=SECRET) == 200
        again = {"update_id": 7002,
                 "message": tg_api.user_message(CASEWORKER_CHAT, text=f"/start {code}")}
        assert tg_api.post_to_webhook(url, again, secret=SECRET) == 200
        used = templates.render("notify/caseworker_code_used.txt")
        texts = tg_api.wait_for(
            lambda: (t := tg_api.texts_to(CASEWORKER_CHAT)) and len(t) >= 2 and t, timeout=30)
        time.sleep(0.5)
        assert tg_api.texts_to(CASEWORKER_CHAT) == [linked, used] == texts
    finally:
        assert bridge.stop() == 0, bridge.log_text()

    settings = load_settings(env)
    engine = make_engine(settings)
    try:
        with make_session_factory(engine).begin() as session:
            caseworker = session.query(Caseworker).one()
            assert caseworker.telegram_chat == str(CASEWORKER_CHAT)
            raw = session.execute(text("SELECT telegram_chat FROM caseworker")).scalar_one()
            assert str(CASEWORKER_CHAT) not in raw
    finally:
        engine.dispose()
    assert str(CASEWORKER_CHAT) not in bridge.log_text()
    assert code not in bridge.log_text()
