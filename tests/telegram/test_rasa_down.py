"""Rasa or the action server down: the child hears "ik ben even bezig", the messages
are kept (encrypted) and answered in order once both are back.

The bridge reaches the real Rasa and action server through TCP forwarders that the
test switches on; until then nothing listens on Rasa's port, and the action server's
forwarder leads nowhere (it only counts the bridge's attempts).

Isolation: the fake Bot API is fresh for this test (tests/telegram/conftest.py), and the
kept messages are read for this test's chat only (the stack's database is shared).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.settings import load_settings
from bot.storage import repo
from bot.storage.db import make_engine, make_session_factory
from bot.telegram.rasa import sender_for_chat
from bot.telegram.texts import DomainResponses
from tests.e2e.stack import Stack, free_port
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import bridge_env, start_bridge

pytestmark = pytest.mark.e2e

CHAT = 733_221_009
AGE_GROUP = "14-18"
WISH = "ik wil zelf kiezen wanneer ik naar mijn vader ga"
RESPONSES = DomainResponses.load()


def _kept(engine, sender: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT sender, text FROM pending_message WHERE sender = :sender ORDER BY id"),
            {"sender": sender})]


def test_messages_wait_for_rasa_and_are_answered_in_order(
    tg_stack: Stack, tg_api: FakeTelegramAPI, tmp_path: Path
):
    stack = tg_stack
    invite = stack.cli("invite", "--age", "16").stdout
    child_id = int(invite.split()[1].rstrip(","))
    code = invite.split()[-1]
    rasa_port, actions_port = free_port(), free_port()
    env = bridge_env(stack.env, tg_api, RASA_URL=f"http://127.0.0.1:{rasa_port}",
                     ACTION_PORT=str(actions_port))
    engine = make_engine(load_settings(stack.env))
    sender = sender_for_chat(stack.settings.pseudonym_secret, CHAT)
    # The action server's port leads nowhere yet: each of the bridge's tries is counted.
    actions_down = TcpProxy(actions_port, free_port()).start()
    proxies: list[TcpProxy] = [actions_down]
    bridge = start_bridge(env, tmp_path / "bridge.log")
    try:
        tg_api.wait_for(lambda: tg_api.polls > 0, timeout=90)

        # Both down: the message is kept, the child hears the busy line (age not
        # known yet: the default variant).
        tg_api.send_text(CHAT, f"/start {code}")
        busy = RESPONSES.text("utter_busy")
        tg_api.wait_for(lambda: tg_api.texts_to(CHAT) == [busy], timeout=60)
        kept = _kept(engine, sender)
        assert len(kept) == 1 and kept[0][0].startswith("tg-")
        assert code not in kept[0][1] and code.replace("-", "") not in kept[0][1]

        # Rasa is back but the action server is not: Rasa must not get the message
        # (it would take it and answer without its actions). The next message queues
        # behind the first, without a second busy line.
        proxies.append(TcpProxy(rasa_port, stack.settings.rasa_port).start())
        tg_api.send_text(CHAT, WISH)
        tg_api.wait_for(lambda: len(_kept(engine, sender)) == 2, timeout=30)
        tries = actions_down.accepted
        tg_api.wait_for(lambda: actions_down.accepted >= tries + 4, timeout=60)  # four rounds
        assert tg_api.texts_to(CHAT) == [busy]
        assert len(_kept(engine, sender)) == 2

        # The action server is back: both are answered, in order: the code links the
        # chat and opens the wishes, so the second message is stored as a wish.
        actions_down.stop()
        proxies.append(TcpProxy(actions_port, stack.settings.action_port).start())
        saved = RESPONSES.text("utter_wish_saved", AGE_GROUP)
        texts = tg_api.wait_for(
            lambda: saved in (t := tg_api.texts_to(CHAT)) and t, timeout=120)
        welcome = RESPONSES.text("utter_welcome", AGE_GROUP).replace(
            "{child_name}", RESPONSES.text("utter_label_child_fallback", AGE_GROUP))
        ask_wish = RESPONSES.text("utter_ask_wish", AGE_GROUP)
        assert texts[0] == busy
        assert texts.index(welcome) < texts.index(ask_wish) < texts.index(saved)
        assert _kept(engine, sender) == []
        with make_session_factory(engine).begin() as session:
            assert [w.text for w in repo.list_wishes(session=session, child_id=child_id)] == [
                WISH]
    finally:
        code_ok = bridge.stop()
        for proxy in proxies:
            proxy.stop()
        engine.dispose()
    assert code_ok == 0, bridge.log_text()
    assert "kept until Rasa is back" in bridge.log_text()
    assert WISH not in bridge.log_text()
