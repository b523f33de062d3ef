"""Issue 8 on Telegram: an answer recorded in the database reaches the child's chat at
once (the bridge's repeating job, no message from the child needed), signed with the
caseworker's first name, with reaction buttons; a pressed button is stored.

Real processes: Rasa, the action server and the bridge, with the fake Bot API."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage import interview, loop, repo
from tests.e2e.stack import Stack
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.support.telegram_chat import linked_child_on_telegram
from tests.telegram.test_e2e import payloads, text_of

pytestmark = pytest.mark.e2e

CHILD_CHAT = 555_010_020
ANSWER = "We gaan zaterdag samen naar het asiel kijken."


def test_answer_reaches_telegram_at_once_and_the_reaction_is_stored(
    tg_stack: Stack, tg_api: FakeTelegramAPI, tmp_path: Path
):
    with linked_child_on_telegram(
        tg_stack, tg_api, chat_id=CHILD_CHAT, caseworker_email="tg-loop@example.org",
        caseworker_name="Sanne de Vries", log=tmp_path / "bridge.log",
    ) as linked:
        child_id, sessions, child = linked.child_id, linked.sessions, linked.chat
        with sessions.begin() as session:
            # A wish shared earlier, answered now in the portal.
            wish = repo.add_wish(session=session, child_id=child_id, session_id=None,
                                 text="een hond")
            interview.decide(session=session, child_id=child_id, refs=[f"wish:{wish.id}"],
                             shared=True)
            kid = repo.get_child(session=session, child_id=child_id)
            summary = interview.send_shared(session=session, child=kid, body="x",
                                            items=interview.items_to_send(
                                                session=session, child_id=child_id))
            (follow_up,) = loop.open_follow_ups_for_summary(session=session, child=kid,
                                                            summary=summary)
            loop.add_reply(session=session, follow_up=follow_up, by=kid.caseworker,
                           status="gedaan", text=ANSWER)

        mark = child.mark()
        delivered = child.wait_new(mark, timeout=60)
        joined = "\n".join(text_of(m) for m in delivered)
        assert ANSWER in joined and "Sanne" in joined and "de Vries" not in joined, joined
        assert "een hond" in joined
        react = delivered[-1]
        assert set(payloads(react)) == {"/react_thanks", "/react_disagree", "/react_own_words"}

        mark = child.mark()
        tg_api.press(CHILD_CHAT, react, payloads(react)["/react_thanks"])
        thanked = child.wait_new(mark)
        assert any("Sanne" in text_of(m) for m in thanked), [text_of(m) for m in thanked]

    with sessions.begin() as session:
        (reaction,) = loop.messages_for_child(session=session, child_id=child_id)
        assert (reaction.kind, reaction.reaction, reaction.channel) == (
            "reaction", "thanks", "tg")
        assert loop.pending_replies(session=session, child_id=child_id) == []
