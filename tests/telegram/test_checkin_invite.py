"""Issue 11 on Telegram: on a check-in's day the bridge's repeating job invites the
linked child (no message from the child needed), without private details; the button
starts the check-in, which asks what changed.

Real processes: Rasa, the action server and the bridge, with the fake Bot API."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage.models import CheckIn
from tests.e2e.stack import Stack
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.support.telegram_chat import linked_child_on_telegram
from tests.telegram.test_e2e import payloads, text_of

pytestmark = pytest.mark.e2e

CHILD_CHAT = 555_010_031


def test_checkin_invitation_on_the_day_starts_the_checkin(
    tg_stack: Stack, tg_api: FakeTelegramAPI, tmp_path: Path
):
    stack = tg_stack
    with linked_child_on_telegram(
        stack, tg_api, chat_id=CHILD_CHAT, caseworker_email="tg-checkin@example.org",
        caseworker_name="Sanne de Wit", log=tmp_path / "bridge.log",
    ) as linked:
        child_id, sessions, child = linked.child_id, linked.sessions, linked.chat
        # The command menu offers "/gevoel" (how I feel, any time), described from the domain.
        (menu,) = [c.params for c in tg_api.calls if c.method == "setMyCommands"]
        assert menu["commands"] == [{"command": "gevoel",
                                     "description": "Zeg hoe je je voelt 😊"}], menu
        today = datetime.now(timezone.utc).date().isoformat()
        mark = child.mark()
        stack.cli("checkin", "plan", "--child", str(child_id), "--date", today,
                  "--about", "evaluatie zorgplan")

        invited = child.wait_new(mark, timeout=60)
        invitation = invited[-1]
        assert "gesprek" in text_of(invitation), [text_of(m) for m in invited]
        assert not any("zorgplan" in text_of(m) or "evaluatie" in text_of(m) for m in invited)
        buttons = payloads(invitation)
        assert "/checkin" in buttons, invitation
        with sessions.begin() as session:
            checkin = session.scalars(select(CheckIn).where(CheckIn.child_id == child_id)).one()
            assert checkin.invited_at is not None and checkin.done_at is None

        mark = child.mark()
        tg_api.press(CHILD_CHAT, invitation, buttons["/checkin"])
        started = child.wait_text("Wat is er veranderd sinds de vorige keer?", mark)
        assert any("gesprek" in text_of(m) for m in started), [text_of(m) for m in started]
        # Invited once: nothing else arrived but the check-in's own messages.
        assert sum("Wil je vooraf" in text_of(m) for m in tg_api.messages_to(CHILD_CHAT)) == 1
