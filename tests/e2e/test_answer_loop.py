"""Issue 8 end to end over REST, against the real Rasa and action server: an answer
recorded in the database (as the portal records it) appears in the child's next reply,
signed with the caseworker's first name; the child's reactions and messages are stored
and reach the caseworker; without a caseworker, nothing is promised in their name."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import accounts
from bot.storage import loop
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Child, ChildMessage, FollowUp, Notice
from tests.e2e.conftest import skip_to_summary, texts
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

ANSWER = "Ik heb met je pleegouders gepraat. <b>Zaterdag</b> gaan jullie samen kijken."


def _db(stack: Stack):
    return make_session_factory(make_engine(stack.settings))


def _child_id(sessions, name: str) -> int:
    with sessions.begin() as session:
        return next(c.id for c in session.scalars(select(Child)) if c.display_name == name)


def _answer(sessions, child_id: int, email: str, status: str, text: str | None) -> int:
    with sessions.begin() as session:
        by = accounts.get_by_email(session=session, email=email)
        assert by is not None
        follow_up = next(f for f in loop.follow_ups_for_child(session=session, child_id=child_id)
                         if f.answered_at is None)
        return loop.add_reply(session=session, follow_up=follow_up, by=by, status=status,
                              text=text).id


def _share_one_wish(stack: Stack, chat: str, code: str, wish: str) -> list[str]:
    stack.say(chat, f"/start {code}")
    stack.say(chat, wish)
    stack.say(chat, "nee")
    skip_to_summary(stack, chat)
    return texts(stack.say(chat, "ja"))


def test_answer_reaches_the_child_and_the_reactions_reach_the_caseworker(stack: Stack):
    stack.cli("caseworker", "add", "loop-sanne@example.org", "--name", "Sanne de Vries",
              "--team", "Noord")
    code = stack.invite("--age", "11", "--name", "Loop1", "--caseworker",
                        "loop-sanne@example.org")
    chat = "rest-e2e-loop-answer"
    shared = _share_one_wish(stack, chat, code, "ik wil een hond")
    assert any("Sanne" in t for t in shared), shared
    sessions = _db(stack)
    child_id = _child_id(sessions, "Loop1")
    with sessions.begin() as session:
        (follow_up,) = loop.follow_ups_for_child(session=session, child_id=child_id)
        assert follow_up.kind == "wish" and follow_up.status == "nieuw"
        assert session.scalars(select(Notice.kind)).all().count("new_summary") >= 1

    # Nothing waiting: the next message gets the ordinary answer only (no 📬 answer,
    # no reaction buttons; the ordinary copy may name Sanne).
    plain = stack.say(chat, "hoi")
    assert not any(t.startswith("📬") for t in texts(plain))
    assert not any(b["payload"] == "/react_thanks" for m in plain for b in m.get("buttons") or [])

    reply_id = _answer(sessions, child_id, "loop-sanne@example.org", "mee_bezig", ANSWER)
    answer = stack.say(chat, "hoi")
    joined = "\n".join(texts(answer))
    assert "Sanne" in joined and "de Vries" not in joined, joined
    assert ANSWER in joined, "the caseworker's words arrive as they were written"
    assert "ik wil een hond" in joined, "the answer says which wish it is about"
    buttons = [b["payload"] for m in answer for b in m.get("buttons") or []]
    assert buttons[-3:] == ["/react_thanks", "/react_disagree", "/react_own_words"]
    # Delivered once only.
    assert ANSWER not in "\n".join(texts(stack.say(chat, "hoi")))

    thanks = texts(stack.say(chat, "/react_thanks"))
    assert any("Sanne" in t for t in thanks), thanks
    ask = texts(stack.say(chat, "/react_own_words"))
    assert any("Sanne" in t for t in ask), ask
    sent = texts(stack.say(chat, "Mag de hond dan ook in mijn kamer slapen?"))
    assert any("Verstuurd" in t and "Sanne" in t for t in sent), sent

    with sessions.begin() as session:
        reactions = loop.messages_for_child(session=session, child_id=child_id)
        assert [(m.kind, m.reaction, m.reply_id) for m in reactions] == [
            ("reaction", "thanks", reply_id), ("reaction", "own_words", reply_id)]
        assert reactions[1].text == "Mag de hond dan ook in mijn kamer slapen?"
        assert loop.unread_counts(session=session, child_ids=[child_id])[child_id][1] == 2


def test_the_child_writes_to_the_caseworker_at_any_time(stack: Stack):
    stack.cli("caseworker", "add", "loop-kim@example.org", "--name", "Kim")
    code = stack.invite("--age", "15", "--name", "Loop2", "--caseworker", "loop-kim@example.org")
    chat = "rest-e2e-loop-message"
    stack.say(chat, f"/start {code}")
    stack.say(chat, "ik wil mijn eigen kamer")  # in the middle of the wishes
    asked = texts(stack.say(chat, "ik wil iets tegen Kim zeggen"))
    assert any("Kim" in t for t in asked), asked
    sent = texts(stack.say(chat, "Ik wil volgende week naar mijn oma"))
    assert any("Kim" in t for t in sent), sent
    sessions = _db(stack)
    child_id = _child_id(sessions, "Loop2")
    with sessions.begin() as session:
        (message,) = session.scalars(
            select(ChildMessage).where(ChildMessage.child_id == child_id)).all()
        assert (message.kind, message.text) == ("message", "Ik wil volgende week naar mijn oma")
        follow_up = session.scalars(
            select(FollowUp).where(FollowUp.message_id == message.id)).one()
        assert follow_up.status == "nieuw"


def test_without_a_caseworker_the_team_is_named_not_a_caseworker(stack: Stack):
    code = stack.invite("--age", "12", "--name", "Loop3", "--team", "Zuid")
    chat = "rest-e2e-loop-team"
    shared = _share_one_wish(stack, chat, code, "ik wil op judo")
    joined = "\n".join(shared)
    assert "team van jeugdzorg" in joined and "gestuurd" not in joined, joined
    asked = "\n".join(texts(stack.say(chat, "ik wil een bericht sturen naar mijn jeugdzorgwerker")))
    assert "team van jeugdzorg" in asked, asked
    sent = "\n".join(texts(stack.say(chat, "wanneer hoor ik iets over judo")))
    assert "team van jeugdzorg" in sent, sent
    sessions = _db(stack)
    child_id = _child_id(sessions, "Loop3")
    with sessions.begin() as session:
        assert child_id in [c.id for c in loop.team_inbox(session=session, team="Zuid")]
        assert len(loop.follow_ups_for_child(session=session, child_id=child_id)) == 2
