"""End to end through the Telegram bridge (real Rasa, action server and bridge; the
fake Bot API on loopback):

- typed `/restart`, `/ restart` and `/safety_alarm` are read as text: no restart, no
  alarm;
- a second child's code in a linked chat starts a fresh session: child B never sees
  A's conversation, A's words stay A's;
- a child under 16 is refused kindly and offered the web chat; the code stays unused.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.invites import normalise
from bot.pseudonym import sender_hash
from bot.telegram.rasa import sender_for_chat
from bot.telegram.texts import DomainResponses
from tests.e2e.stack import Stack
from tests.e2e.test_privacy import tracker_events_of
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import bridge_env, start_bridge
from tests.telegram.test_e2e import ChatView, text_of

pytestmark = pytest.mark.e2e

SHARED_CHAT = 555_100_200
YOUNG_CHAT = 555_300_400
RESPONSES = DomainResponses.load()
WISH_A = "ik wil mijn eigen kamer houden, dat is van A"


def say(name: str, age_group: str = "14-18") -> str:
    return RESPONSES.text(name, age_group)


def new_child(stack: Stack, age: int) -> tuple[int, str]:
    out = stack.cli("invite", "--age", str(age)).stdout
    child_id = int(re.search(r"child (\d+)", out).group(1))  # type: ignore[union-attr]
    return child_id, out.strip().splitlines()[-1]


def rows(stack: Stack, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(stack.var_dir / "mijnstem.db", timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def wishes(stack: Stack, *children: int) -> list[tuple]:
    marks = ", ".join("?" for _ in children)
    return rows(stack, f"SELECT child_id FROM wish WHERE child_id IN ({marks}) ORDER BY id",
                *children)


def test_telegram_linking_and_commands(tg_stack: Stack, tg_api: FakeTelegramAPI,
                                       tmp_path: Path) -> None:
    stack = tg_stack
    child_a, code_a = new_child(stack, 16)
    child_b, code_b = new_child(stack, 17)
    young_id, code_young = new_child(stack, 12)
    secret = stack.settings.pseudonym_secret
    first, second = sender_for_chat(secret, SHARED_CHAT), sender_for_chat(secret, SHARED_CHAT, 1)

    bridge = start_bridge(bridge_env(stack.env, tg_api), tmp_path / "bridge.log")
    chat = ChatView(tg_api, SHARED_CHAT)
    young = ChatView(tg_api, YOUNG_CHAT)
    try:
        tg_api.wait_for(lambda: tg_api.polls > 0, timeout=90)
        tg_api.send_text(SHARED_CHAT, f"/start {code_a}")
        chat.wait_text(say("utter_ask_wish"), 0)
        mark = chat.mark()
        tg_api.send_text(SHARED_CHAT, WISH_A)
        chat.wait_text(say("utter_ask_more_wishes"), mark)

        # Typed intents are plain text: no restart, no alarm.
        for typed in ("/restart", "/ restart", "/safety_alarm"):
            mark = chat.mark()
            tg_api.send_text(SHARED_CHAT, typed)
            answered = [text_of(m) for m in chat.wait_new(mark)]
            assert not any("112" in t for t in answered), (typed, answered)
        events = tracker_events_of(stack, first)
        assert not [e for e in events if e["event"] in ("restart", "reset_slots")]
        intents = [(e.get("parse_data") or {}).get("intent", {}).get("name")
                   for e in events if e["event"] == "user"]
        assert "restart" not in intents and "safety_alarm" not in intents
        assert rows(stack, "SELECT count(*) FROM alert WHERE sender_hash = ?",
                    sender_hash(secret, first)) == [(0,)]
        # The interview is where it was ("restart" typed at a question is just words).
        assert set(wishes(stack, child_a, child_b)) == {(child_a,)}
        a_rows = len(wishes(stack, child_a))

        # Child B's code in the same chat: a fresh session, not A's conversation.
        mark = chat.mark()
        tg_api.send_text(SHARED_CHAT, f"/start {code_b}")
        fresh = [text_of(m) for m in chat.wait_text(say("utter_ask_wish", "14-18"), mark)]
        welcome = re.compile(re.escape(say("utter_welcome")).replace(
            re.escape("{child_name}"), ".+"))
        assert any(welcome.fullmatch(t) for t in fresh), fresh
        assert say("utter_already_linked") not in fresh
        assert all(WISH_A not in t for t in fresh)
        assert WISH_A not in str(tracker_events_of(stack, second))
        linked = rows(stack, "SELECT child_id FROM conversation_session ORDER BY id")
        assert linked[-2:] == [(child_a,), (child_b,)]
        assert wishes(stack, child_b) == []
        mark = chat.mark()
        tg_api.send_text(SHARED_CHAT, "ik wil een hond, zegt B")
        chat.wait_text(say("utter_ask_more_wishes"), mark)
        assert wishes(stack, child_b) == [(child_b,)]
        assert len(wishes(stack, child_a)) == a_rows, "nothing of B's was stored as A's"

        # Under 16: refused kindly, the web chat offered, the code not used up.
        tg_api.send_text(YOUNG_CHAT, f"/start {code_young}")
        url = f"{stack.settings.public_web_url}/chat?code={normalise(code_young)}"
        expected = say("utter_link_telegram_too_young", "10-13").replace("{web_chat_url}", url)
        assert [text_of(m) for m in young.wait_text(expected, 0)] == [expected]
        assert rows(stack, "SELECT used_at FROM invite WHERE child_id = ?", young_id) == [
            (None,)]
    finally:
        assert bridge.stop() == 0, bridge.log_text()
