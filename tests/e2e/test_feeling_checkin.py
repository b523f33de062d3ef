"""Issue 11 end to end over REST, real Rasa and action server: "Hoe voel ik me?" at any
moment (shared only with a yes; a disclosure in the "why" is an alarm, never an invalid
answer), and a check-in planned with the CLI that asks what changed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.pseudonym import sender_hash
from bot.storage import loop
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Alert, AuditEvent, CheckIn, Child, ChildMessage
from tests.e2e.conftest import skip_to_summary, texts
from tests.e2e.stack import Stack
from tests.e2e.test_safety import _has_helplines

pytestmark = pytest.mark.e2e


def _db(stack: Stack):
    return make_session_factory(make_engine(stack.settings))


def _child_id(sessions, name: str) -> int:
    with sessions.begin() as session:
        return next(c.id for c in session.scalars(select(Child)) if c.display_name == name)


def _start(stack: Stack, chat: str, *, age: str, name: str,
           caseworker: tuple[str, str] | None = None) -> None:
    """A child of `age` called `name` (of the caseworker (email, name), when given) links
    `chat` with their invite code."""
    extra: list[str] = []
    if caseworker is not None:
        email, full_name = caseworker
        stack.cli("caseworker", "add", email, "--name", full_name)
        extra = ["--caseworker", email]
    code = stack.invite("--age", age, "--name", name, *extra)
    stack.say(chat, f"/start {code}")


def test_feeling_shared_with_a_yes_then_the_interview_goes_on(stack: Stack):
    chat = "rest-e2e-feeling-yes"
    _start(stack, chat, age="8", name="Feelkid",
           caseworker=("feel-sanne@example.org", "Sanne Bakker"))
    # The first wish question is open.

    asked = stack.say(chat, "/gevoel")
    assert "Hoe voel je je nu?" in texts(asked)[-1], texts(asked)
    titles = [b["title"] for b in asked[-1].get("buttons") or []]
    assert "Bang 😨" in titles and "Overslaan ⏭️" in titles, titles
    why = texts(stack.say(chat, '/choose{"choice":"trots"}'))
    assert "waarom" in why[-1], why
    share = texts(stack.say(chat, "ik mocht de hond uitlaten"))
    assert "Mag Sanne dit zien?" in share[-1], share
    done = texts(stack.say(chat, "ja"))
    assert any("Verstuurd" in t and "Sanne" in t for t in done), done
    assert not any("gestuurd" in t and "niet" in t for t in done), done
    # Back where the child was: the wish question again.
    assert "wens" in done[-1].lower(), done

    sessions = _db(stack)
    child_id = _child_id(sessions, "Feelkid")
    with sessions.begin() as session:
        (message,) = loop.messages_for_child(session=session, child_id=child_id)
        assert (message.kind, message.feeling, message.text) == (
            "feeling", "trots", "ik mocht de hond uitlaten")
        (follow_up,) = loop.follow_ups_for_child(session=session, child_id=child_id)
        assert follow_up.message_id == message.id


def test_feeling_not_shared_says_so_and_stores_nothing(stack: Stack):
    chat = "rest-e2e-feeling-no"
    _start(stack, chat, age="15", name="Feelteen")
    stack.say(chat, "ik wil zeggen hoe ik me voel")
    stack.say(chat, "moe")
    share = texts(stack.say(chat, "overslaan"))
    # No caseworker linked: the team's wording, never a name.
    assert "team van jeugdzorg" in share[-1], share
    done = texts(stack.say(chat, "nee"))
    assert any("niets verstuurd" in t for t in done), done
    assert not any(t.startswith("Verstuurd") for t in done), done
    sessions = _db(stack)
    with sessions.begin() as session:
        child_id = _child_id(sessions, "Feelteen")
        assert loop.messages_for_child(session=session, child_id=child_id) == []


def test_a_disclosure_in_the_why_is_an_alarm_not_an_invalid_answer(stack: Stack):
    chat = "rest-e2e-feeling-alarm"
    _start(stack, chat, age="12", name="Feelsafe", caseworker=("feel-fleur@example.org", "Fleur"))
    stack.say(chat, "/gevoel")
    stack.say(chat, '/choose{"choice":"bang"}')
    reply = texts(stack.say(chat, "mijn stiefvader slaat me elke avond"))
    assert _has_helplines(reply), reply
    assert "veilig?" in reply[-1], reply
    assert not any("Kies een van de knoppen" in t or "ja of nee" in t.lower() for t in reply)
    sessions = _db(stack)
    with sessions.begin() as session:
        (alert,) = session.scalars(select(Alert).where(
            Alert.sender_hash == sender_hash(stack.settings.pseudonym_secret, chat))).all()
        assert alert.category == "physical_abuse"
        # Nothing went to the caseworker as a feeling without the child's yes.
        assert loop.messages_for_child(session=session,
                                       child_id=_child_id(sessions, "Feelsafe")) == []


def test_checkin_asks_what_changed_and_what_to_discuss(stack: Stack):
    chat = "rest-e2e-checkin"
    _start(stack, chat, age="11", name="Checkkid",
           caseworker=("checkin-sanne@example.org", "Sanne Jansen"))
    stack.say(chat, "ik wil een hond")
    stack.say(chat, "nee")
    skip_to_summary(stack, chat)
    stack.say(chat, "ja")  # the summary is shared: the interview is done

    sessions = _db(stack)
    child_id = _child_id(sessions, "Checkkid")
    today = datetime.now(timezone.utc).date().isoformat()
    planned = stack.cli("checkin", "plan", "--child", str(child_id), "--date", today,
                        "--about", "evaluatie zorgplan").stdout
    assert f"for child {child_id} on {today}" in planned
    assert "planned" in stack.cli("checkin", "list", "--child", str(child_id)).stdout

    # The next visit: the check-in comes first, instead of the returning child's round.
    first = texts(stack.say(chat, "hoi"))
    assert any("gesprek" in t for t in first), first
    assert "Wat is er veranderd sinds de vorige keer?" in first[-1], first
    assert not any("evaluatie" in t or "zorgplan" in t for t in first), "no private details"
    discuss = texts(stack.say(chat, "ik zit nu op voetbal"))
    assert "besproken" in discuss[-1], discuss
    share = texts(stack.say(chat, "dat ik vaker naar papa mag"))
    assert "Mag Sanne dit lezen voor het gesprek?" in share[-1], share
    done = texts(stack.say(chat, "ja"))
    assert any("Verstuurd" in t and "Sanne" in t for t in done), done

    with sessions.begin() as session:
        messages = session.scalars(select(ChildMessage).where(
            ChildMessage.child_id == child_id).order_by(ChildMessage.id)).all()
        checkin = session.scalars(select(CheckIn).where(CheckIn.child_id == child_id)).one()
        assert [(m.kind, m.part, m.checkin_id, m.text) for m in messages] == [
            ("checkin", "changed", checkin.id, "ik zit nu op voetbal"),
            ("checkin", "discuss", checkin.id, "dat ik vaker naar papa mag")]
        assert checkin.done_at is not None
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("cli.checkin%"))).all()
        assert "cli.checkin.plan" in actions and "cli.checkin.list" in actions
    assert "done" in stack.cli("checkin", "list", "--child", str(child_id)).stdout
    # Done once: the next greeting is the ordinary returning child's round.
    again = texts(stack.say(chat, "hoi"))
    assert not any("Wat wil je dat er besproken wordt" in t for t in again), again
