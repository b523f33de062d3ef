"""A child linked on Telegram with the bridge running, for the end-to-end tests of what
the bridge sends on its own (tests/telegram/test_followups.py, test_checkin_invite.py):
a caseworker, a 16-year-old child of theirs, the bridge as a real process against the
fake Bot API, and the child's `/start CODE` handled until the bridge stored where the
chat can be reached."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import load_settings
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import ConversationSession
from tests.e2e.stack import Stack
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram.conftest import BridgeProcess, bridge_env, start_bridge
from tests.telegram.test_e2e import ChatView


@dataclass(frozen=True)
class LinkedChat:
    child_id: int
    sessions: sessionmaker[Session]
    bridge: BridgeProcess
    chat: ChatView


@contextmanager
def linked_child_on_telegram(
    stack: Stack, api: FakeTelegramAPI, *, chat_id: int, caseworker_email: str,
    caseworker_name: str, log: Path,
) -> Iterator[LinkedChat]:
    """The bridge delivers every 0.5 s (MIJNSTEM_FOLLOWUP_DELIVERY_SECONDS) and is
    stopped, with a clean exit asserted, when the block ends."""
    stack.cli("caseworker", "add", caseworker_email, "--name", caseworker_name)
    invite = stack.cli("invite", "--age", "16", "--caseworker", caseworker_email).stdout
    child_id = int(re.search(r"child (\d+)", invite).group(1))  # type: ignore[union-attr]
    code = invite.split()[-1]
    sessions = make_session_factory(make_engine(load_settings(stack.env)))

    bridge = start_bridge(bridge_env(stack.env, api, MIJNSTEM_FOLLOWUP_DELIVERY_SECONDS="0.5"),
                          log)
    chat = ChatView(api, chat_id)
    try:
        api.wait_for(lambda: api.polls > 0, timeout=90)
        api.send_text(chat_id, f"/start {code}")
        chat.wait_new(0)

        def address() -> str | None:
            with sessions.begin() as session:
                found = session.scalars(select(ConversationSession).where(
                    ConversationSession.child_id == child_id)).all()
                return found[0].chat_address if found else None

        # The bridge stored where this chat can be reached (after its reply).
        assert api.wait_for(address, timeout=30) == str(chat_id)
        yield LinkedChat(child_id, sessions, bridge, chat)
    finally:
        assert bridge.stop() == 0, bridge.log_text()
