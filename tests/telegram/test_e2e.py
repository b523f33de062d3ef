"""End to end: a child talks to Mijn Stem through Telegram.

Real processes: Rasa, the action server and the bridge (`python -m bot telegram`),
with our fake Bot API server on loopback in place of Telegram. The child links with
a deep-link code, meets a 429 from Telegram, sends a sticker (delivered twice),
edits a message, answers once by text and by buttons, and shares the summary; the
caseworker, who linked their own chat with a caseworker code, gets a notification.
The expected words are read from the domain and the notification templates.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain import load_domain
from bot.notify import templates
from bot.settings import load_settings
from bot.storage import repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import ConversationSession, SharedSummary
from bot.telegram.texts import DomainResponses
from tests.e2e.stack import Stack
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import bridge_env, start_bridge

pytestmark = pytest.mark.e2e

CHILD_CHAT = 918_273_645
CASEWORKER_CHAT = 600_300_400
AGE_GROUP = "14-18"
WISH = "ik wil vaker videobellen met mijn moeder"
RESPONSES = DomainResponses.load()
DOMAIN = load_domain()


def filled(text: str) -> str:
    """A response's text as the child gets it: the invite has no name (the domain's
    fallback) and the caseworker is Sam (issue 11: names instead of jargon)."""
    return (text
            .replace("{child_name}", RESPONSES.text("utter_label_child_fallback", AGE_GROUP))
            .replace("{caseworker_name}", "Sam"))


def say(name: str) -> str:
    return filled(RESPONSES.text(name, AGE_GROUP))


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


def payloads(message: dict[str, Any]) -> dict[str, str]:
    """payload -> title of the buttons on a message, read from the domain response it
    shows: on the wire the callback data is PTB's short key (arbitrary_callback_data),
    never the payload."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    titles = sorted(b["text"] for row in rows for b in row)
    assert not {b["callback_data"] for row in rows for b in row} & {"/skip", "/deny"}
    for variants in DOMAIN["responses"].values():
        for variant in variants:
            buttons = {b["payload"]: b["title"] for b in variant.get("buttons") or []}
            same_text = filled(str(variant.get("text") or "")).strip() == text_of(message).strip()
            if same_text and sorted(buttons.values()) == titles:
                return buttons
    return {}


class ChatView:
    """What the bot sent to one chat, with waits that let a whole answer arrive."""

    def __init__(self, api: FakeTelegramAPI, chat_id: int) -> None:
        self.api = api
        self.chat_id = chat_id

    def mark(self) -> int:
        return len(self.api.messages_to(self.chat_id))

    def _settle(self, after: int) -> list[dict[str, Any]]:
        last = -1
        while (now := self.mark()) != last:
            last = now
            time.sleep(0.4)
        return self.api.messages_to(self.chat_id)[after:]

    def wait_text(self, expected: str, after: int, timeout: float = 90) -> list[dict[str, Any]]:
        self.api.wait_for(
            lambda: any(text_of(m) == expected
                        for m in self.api.messages_to(self.chat_id)[after:]), timeout)
        return self._settle(after)

    def wait_new(self, after: int, timeout: float = 90) -> list[dict[str, Any]]:
        self.api.wait_for(lambda: self.mark() > after, timeout)
        return self._settle(after)


def test_a_child_talks_to_mijn_stem_on_telegram(
    tg_stack: Stack, tg_api: FakeTelegramAPI, tmp_path: Path
):
    stack = tg_stack
    stack.cli("caseworker", "add", "sam@example.org", "--name", "Sam")
    cw_code = stack.cli("caseworker", "telegram-code", "sam@example.org").stdout.split()[-1]
    invite = stack.cli("invite", "--age", "16", "--caseworker", "sam@example.org").stdout
    child_id = int(re.search(r"child (\d+)", invite).group(1))  # type: ignore[union-attr]
    child_code = invite.split()[-1]

    bridge = start_bridge(bridge_env(stack.env, tg_api), tmp_path / "bridge.log")
    child = ChatView(tg_api, CHILD_CHAT)
    caseworker = ChatView(tg_api, CASEWORKER_CHAT)
    try:
        tg_api.wait_for(lambda: tg_api.polls > 0, timeout=90)

        # The caseworker links their own chat: the bridge answers, Rasa never sees it.
        tg_api.send_text(CASEWORKER_CHAT, f"/start {cw_code}")
        caseworker.wait_text(
            templates.render("notify/caseworker_linked.txt", caseworker_name="Sam"), 0)

        # Deep link t.me/<bot>?start=CODE arrives as "/start CODE" (no dash). Telegram
        # answers the first reply with 429 Too Many Requests: it is sent again.
        tg_api.fail_next("sendMessage", retry_after=1)
        tg_api.send_text(CHILD_CHAT, f"/start {child_code.replace('-', '')}")
        first = child.wait_text(say("utter_ask_wish"), 0)
        assert [text_of(m) for m in first] == [
            say("utter_welcome"), say("utter_welcome_rules"), say("utter_ask_wish")]
        refused = [c for c in tg_api.calls_of("sendMessage") if c.status == 429]
        assert len(refused) == 1 and refused[0].params["text"] == say("utter_welcome")
        assert "/skip" in set(payloads(first[-1]))

        # A sticker, delivered twice by Telegram: one kind answer, then the question again.
        mark = child.mark()
        sticker = tg_api.send_sticker(CHILD_CHAT)
        tg_api.redeliver(sticker)
        assert [text_of(m) for m in child.wait_text(say("utter_ask_wish"), mark)] == [
            say("utter_media_not_supported"), say("utter_ask_wish")]

        # An edited message is not taken as an answer.
        mark = child.mark()
        tg_api.edit_text(CHILD_CHAT, "ik wil een hond")
        assert [text_of(m) for m in child.wait_text(say("utter_ask_wish"), mark)] == [
            say("utter_edit_not_read"), say("utter_ask_wish")]

        # Commands go to Rasa like text: /privacy is answered, then the question again.
        mark = child.mark()
        tg_api.send_text(CHILD_CHAT, "/privacy")
        assert [text_of(m) for m in child.wait_text(say("utter_ask_wish"), mark)] == [
            say("utter_privacy"), say("utter_ask_wish")]

        # Answer by text.
        mark = child.mark()
        tg_api.send_text(CHILD_CHAT, WISH)
        answered = child.wait_text(say("utter_ask_more_wishes"), mark)
        assert [text_of(m) for m in answered] == [
            say("utter_wish_saved"), say("utter_ask_more_wishes")]

        # Answer by button: no more wishes. The keyboard goes; the choice is shown.
        more = answered[-1]
        no_title = payloads(more)["/deny"]
        mark = child.mark()
        tg_api.press(CHILD_CHAT, more, no_title)
        after_no = child.wait_new(mark)
        pressed = next(m for m in tg_api.messages_to(CHILD_CHAT)
                       if m["message_id"] == more["message_id"])
        assert "reply_markup" not in pressed
        assert pressed["text"] == f"{say('utter_ask_more_wishes')}\n\n👉 {no_title}"

        # Whatever the interview asks next, skip it, up to the question what to share.
        share_question = say("utter_ask_share_mode")
        for _ in range(40):
            if text_of(after_no[-1]) == share_question:
                break
            mark = child.mark()
            options = payloads(after_no[-1])
            skip = next((p for p in ("/skip", "/dont_know", "/deny") if p in options), None)
            if skip:
                tg_api.press(CHILD_CHAT, after_no[-1], options[skip])
            else:
                tg_api.send_text(CHILD_CHAT, "weet ik niet")
            after_no = child.wait_new(mark)
        else:
            pytest.fail(f"never asked to share: {[text_of(m) for m in after_no]}")
        summary_texts = [text_of(m) for m in tg_api.messages_to(CHILD_CHAT)]
        assert any(WISH in t for t in summary_texts), summary_texts

        # Share everything, by button (a payload with JSON in it).
        mark = child.mark()
        share_all = '/choose{"choice":"all"}'
        asked = next(m for m in reversed(tg_api.messages_to(CHILD_CHAT))
                     if share_all in payloads(m))
        tg_api.press(CHILD_CHAT, asked, payloads(asked)[share_all])
        shared = child.wait_text(say("utter_summary_shared"), mark)
        assert say("utter_summary_shared") in [text_of(m) for m in shared]
        assert len(tg_api.calls_of("answerCallbackQuery")) >= 2

        # The caseworker hears that a summary waits, without the child's words.
        note = templates.render("notify/summary_shared.txt", child_id=child_id,
                                caseworker_email="sam@example.org")
        caseworker.wait_text(note, 1, timeout=30)
        assert all(WISH not in t for t in tg_api.texts_to(CASEWORKER_CHAT))
    finally:
        assert bridge.stop() == 0, bridge.log_text()

    # The database: one wish row (the sticker, the edit and the repeat stored nothing),
    # and the shared summary in the outbox for the caseworker.
    settings = load_settings(stack.env)
    engine = make_engine(settings)
    try:
        with make_session_factory(engine).begin() as session:
            wishes = repo.list_wishes(session=session, child_id=child_id)
            assert [w.text for w in wishes] == [WISH]
            summaries = session.scalars(
                select(SharedSummary).where(SharedSummary.child_id == child_id)).all()
            assert len(summaries) == 1 and WISH in summaries[0].body
            caseworker_row = repo.get_caseworker(session=session, email="sam@example.org")
            assert summaries[0].caseworker_id == caseworker_row.id
            assert caseworker_row.telegram_chat == str(CASEWORKER_CHAT)
            # The actions saw a "tg-" sender: the chat is linked as a Telegram chat.
            linked = session.scalars(select(ConversationSession).where(
                ConversationSession.child_id == child_id)).all()
            assert [c.channel for c in linked] == ["tg"]
    finally:
        engine.dispose()

    # No Telegram id in clear in Rasa's tracker, and no child's words in the bridge log.
    var_dir = Path(stack.env["MIJNSTEM_VAR_DIR"])
    for path in var_dir.glob("rasa-tracker.db*"):
        assert str(CHILD_CHAT).encode() not in path.read_bytes(), path
    log = bridge.log_text()
    assert WISH not in log and str(CHILD_CHAT) not in log and child_code not in log
