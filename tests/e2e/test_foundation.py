"""Issue 2 end to end: real Rasa + action server, the CLI, a child over the REST channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Child, SharedSummary, Wish
from tests.e2e.conftest import skip_to_summary, texts
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e


def _db(stack: Stack):
    return make_session_factory(make_engine(stack.settings))


def test_link_two_wishes_share_and_find_them_stored(stack: Stack):
    stack.cli("caseworker", "add", "e2e-sanne@example.org", "--name", "Sanne")
    code = stack.invite("--age", "11", "--name", "Noor", "--caseworker", "e2e-sanne@example.org")
    chat = "rest-e2e-foundation"

    before = texts(stack.say(chat, "hoi"))
    assert any("/start" in t for t in before), before

    welcome = texts(stack.say(chat, f"/start {code}"))
    assert any("Mijn Stem" in t for t in welcome)
    assert any("Sanne leest" in t for t in welcome), "the welcome says who reads the answers"
    assert any("overslaan" in t.lower() for t in welcome), "the welcome says the child may skip"

    assert texts(stack.say(chat, "ik wil op mijn voetbalclub blijven"))
    assert texts(stack.say(chat, "ja"))
    assert texts(stack.say(chat, "ik wil mijn broertje vaker zien"))
    assert any("belangrijk" in t for t in texts(stack.say(chat, "nee")))
    summary = skip_to_summary(stack, chat)
    assert any("Dit heb ik opgeschreven" in t for t in summary), summary
    joined = "\n".join(summary)
    assert "voetbalclub" in joined and "broertje" in joined
    shared = texts(stack.say(chat, "ja"))
    assert any("gestuurd" in t or "gelezen" in t or "lezen" in t for t in shared), shared

    sessions = _db(stack)
    with sessions.begin() as session:
        child = session.scalars(select(Child).where(Child.display_name.is_not(None))).all()
        noor = next(c for c in child if c.display_name == "Noor")
        wishes = [w.text for w in session.scalars(select(Wish).where(Wish.child_id == noor.id))]
        assert wishes == ["ik wil op mijn voetbalclub blijven", "ik wil mijn broertje vaker zien"]
        (outbox,) = session.scalars(
            select(SharedSummary).where(SharedSummary.child_id == noor.id)
        ).all()
        assert "voetbalclub" in outbox.body and "broertje" in outbox.body
    listed = stack.cli("summaries", "--caseworker", "e2e-sanne@example.org").stdout
    assert "voetbalclub" in listed


def test_saying_no_keeps_the_summary_private(stack: Stack):
    code = stack.invite("--age", "15")
    chat = "rest-e2e-private"
    stack.say(chat, f"/start {code}")
    stack.say(chat, "ik wil zelf kiezen wanneer ik mijn vader zie")
    stack.say(chat, "nee")
    skip_to_summary(stack, chat)
    private = texts(stack.say(chat, "nee"))
    assert any("houd ik voor jou" in t and "ziet het niet" in t for t in private), private
    with _db(stack).begin() as session:
        # Encrypted columns cannot be compared in SQL: decrypt and filter here.
        (wish,) = [w for w in session.scalars(select(Wish))
                   if w.text == "ik wil zelf kiezen wanneer ik mijn vader zie"]
        assert session.scalars(
            select(SharedSummary).where(SharedSummary.child_id == wish.child_id)
        ).all() == []


def test_age_is_asked_when_the_invite_has_none(stack: Stack):
    code = stack.invite()
    chat = "rest-e2e-age"
    assert any("oud" in t for t in texts(stack.say(chat, f"/start {code}")))
    assert any("getal" in t for t in texts(stack.say(chat, "geen idee eigenlijk")))
    assert any("6 tot en met 18" in t for t in texts(stack.say(chat, "42")))
    after = texts(stack.say(chat, "ik ben negen"))
    assert any("wens" in t.lower() for t in after), after
    with _db(stack).begin() as session:
        ages = {c.age for c in session.scalars(select(Child))}
    assert 9 in ages


def test_wrong_expired_or_used_codes_get_a_way_forward(stack: Stack):
    wrong = texts(stack.say("rest-e2e-wrong", "/start ABCD-2345"))
    assert any("ken ik niet" in t and "jeugdzorgwerker" in t for t in wrong)
    code = stack.invite("--age", "12")
    stack.say("rest-e2e-first", f"/start {code}")
    used = texts(stack.say("rest-e2e-second", f"/start {code}"))
    assert any("al gebruikt" in t and "nieuwe code" in t for t in used)
    again = texts(stack.say("rest-e2e-first", f"/start {code}"))
    assert any("al gekoppeld" in t or "al gebruikt in deze chat" in t for t in again)


BAD_INPUTS = ["", "   ", "a" * 10_000, "😀😀😀", "I don't understand, do you speak English?",
              "/start", "/start NOPE", "asdfghjkl qwerty"]


@pytest.mark.parametrize("linked", [False, True], ids=["before-linking", "in-wish-form"])
def test_bad_input_gets_a_kind_answer_and_loses_nothing(stack: Stack, linked: bool):
    chat = f"rest-e2e-bad-{linked}"
    if linked:
        stack.say(chat, f"/start {stack.invite('--age', '10')}")
        stack.say(chat, "ik wil een eigen kamer")
    for message in BAD_INPUTS:
        replies = texts(stack.say(chat, message))
        assert replies and all(r.strip() for r in replies), f"no answer to {message[:20]!r}"
        assert not any("error" in r.lower() or "traceback" in r.lower() for r in replies)
    if linked:
        with _db(stack).begin() as session:
            assert [w for w in session.scalars(select(Wish)) if w.text == "ik wil een eigen kamer"]
