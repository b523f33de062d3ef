"""Issue 4, safeguarding, end to end: real Rasa (with the safety detector in its NLU
pipeline) and the real action server, a child over the REST channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.pseudonym import sender_hash
from bot.safety import alerts
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Alert, Child, Wish
from tests.e2e.conftest import texts
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

HELPLINES = ("112", "0800-0432", "kindertelefoon.nl", "11:00-21:00", "0800-2000", "113",
             "0800-0113")


def _alerts_of(stack: Stack, chat: str) -> list[alerts.AlertView]:
    engine = make_engine(stack.settings)
    try:
        with make_session_factory(engine).begin() as session:
            found = session.scalars(
                select(Alert)
                .where(Alert.sender_hash == sender_hash(stack.settings.pseudonym_secret, chat))
                .order_by(Alert.id)
            )
            return [alerts.view(session=session, alert=a) for a in found]
    finally:
        engine.dispose()


def _has_helplines(reply: list[str]) -> bool:
    # All of them in one message: the same reply, not spread over the conversation.
    return any(all(h in t for h in HELPLINES) for t in reply)


def test_an_alarm_before_linking_gets_help_and_an_alert(stack: Stack):
    chat = "rest-e2e-safety-unlinked"
    reply = texts(stack.say(chat, "mn stiefvader slaat me elke dag"))
    assert _has_helplines(reply), reply
    assert "veilig?" in reply[-1], "then the bot asks whether the child is safe now"
    (alert,) = _alerts_of(stack, chat)
    assert alert.child_id is None and alert.category == "physical_abuse"
    assert alert.excerpt == "mn stiefvader slaat me elke dag"

    # "nee" is not the end of it: 112, stay, and the question again.
    reply = texts(stack.say(chat, "nee"))
    assert any("Bel nu 112" in t for t in reply) and "veilig?" in reply[-1], reply
    assert [a.category for a in _alerts_of(stack, chat)] == ["physical_abuse", "danger_now"]
    # "laat maar": help is still there, asked once more...
    reply = texts(stack.say(chat, "laat maar zitten"))
    assert any("0800-0432" in t for t in reply) and "veilig?" in reply[-1], reply
    # ...then the offer to go on later.
    reply = texts(stack.say(chat, "laat maar"))
    assert any("hoi" in t for t in reply) and not any("veilig?" in t for t in reply), reply


def test_an_alarm_inside_a_free_text_answer_mid_form(stack: Stack):
    stack.cli("caseworker", "add", "e2e-safety@example.org", "--name", "Fleur")
    code = stack.invite("--age", "12", "--name", "Siem", "--caseworker", "e2e-safety@example.org")
    chat = "rest-e2e-safety-form"
    welcome = texts(stack.say(chat, f"/start {code}"))
    assert any("zonder jouw ja" in t for t in welcome), "told at the start"

    # The wish question is open: the answer carries the alarm.
    reply = texts(stack.say(chat, "ik wil weg want mijn vader slaat me"))
    assert _has_helplines(reply), reply
    assert any("jeugdzorgwerker" in t and "zonder jouw ja" in t for t in reply), (
        "told when it happens")
    (alert,) = _alerts_of(stack, chat)
    engine = make_engine(stack.settings)
    with make_session_factory(engine).begin() as session:
        sem = next(c for c in session.scalars(select(Child)) if c.display_name == "Siem")
        assert alert.child_id == sem.id
        assert alert.caseworker_email == "e2e-safety@example.org"
        # The alarm was not stored as a wish.
        assert session.scalars(select(Wish).where(Wish.child_id == sem.id)).all() == []
    engine.dispose()
    assert alert.category == "physical_abuse" and "slaat me" in (alert.excerpt or "")

    reply = texts(stack.say(chat, "ja"))
    assert any("Gelukkig" in t for t in reply), reply
    # Later the interview goes on where it was.
    reply = texts(stack.say(chat, "hoi"))
    assert not _has_helplines(reply) and any("wens" in t.lower() for t in reply), reply

    listed = stack.cli("alerts").stdout
    assert f"alert {alert.id} | OPEN | physical_abuse" in listed
    stack.cli("ack", str(alert.id), "--by", "e2e-safety@example.org")
    assert f"alert {alert.id} " not in stack.cli("alerts").stdout


def test_figures_of_speech_do_not_alarm(stack: Stack):
    chat = "rest-e2e-safety-calm"
    for text in ("ik ga dood van het lachen", "ik heb een blauwe plek van voetbal"):
        assert not _has_helplines(texts(stack.say(chat, text))), text
    assert _alerts_of(stack, chat) == []


def test_an_alarm_at_the_end_of_a_very_long_message_is_not_cut_away(stack: Stack):
    chat = "rest-e2e-safety-long"
    text = "ik wil graag op voetbal blijven en mijn oma vaker zien. " * 120
    text += "maar eigenlijk wil ik niet meer leven"
    assert len(text) > 6000
    reply = texts(stack.say(chat, text))
    assert _has_helplines(reply), reply
    assert _alerts_of(stack, chat)


def test_an_alarm_during_a_flood_is_never_refused(stack: Stack):
    import json
    import threading
    import urllib.request

    chat = "rest-e2e-safety-flood"
    replies: list[list[str]] = []
    lock = threading.Lock()

    def send(text: str) -> None:
        request = urllib.request.Request(
            stack.webhook, data=json.dumps({"sender": chat, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = texts(json.load(response))
        with lock:
            replies.append(answer)

    flood = [threading.Thread(target=send, args=(f"spam {n}",)) for n in range(70)]
    for thread in flood:
        thread.start()
    for thread in flood:
        thread.join(timeout=120)
    alarm = texts(stack.say(chat, "help mijn vader slaat me"))
    assert _has_helplines(alarm), alarm


# --- issue 9: two tiers, 112 first, disclosures inside the safety check ----------------

def _post(stack: Stack, chat: str, text: str, metadata: dict) -> list[str]:
    import json
    import urllib.request

    request = urllib.request.Request(
        stack.webhook,
        data=json.dumps({"sender": chat, "message": text, "metadata": metadata}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return texts(json.load(response))


@pytest.mark.parametrize("text", ["ik heb pillen genomen", "ik heb een heleboel pillen geslikt"])
def test_an_overdose_gets_112_first_the_helplines_and_an_alert(stack: Stack, text: str):
    chat = f"rest-e2e-overdose-{len(text)}"
    reply = texts(stack.say(chat, text))
    assert reply and "Bel nu 112" in reply[0], reply  # before anything else
    assert _has_helplines(reply[1:]), reply
    assert "veilig?" in reply[-1], reply
    assert [a.category for a in _alerts_of(stack, chat)] == ["overdose"]


@pytest.mark.parametrize("text", ["ik heb pillen genomen", "ik heb een heleboel pillen geslikt"])
def test_an_overdose_inside_the_safety_check_is_a_disclosure(stack: Stack, text: str):
    chat = f"rest-e2e-overdose-check-{len(text)}"
    first = texts(stack.say(chat, "mn stiefvader slaat me elke dag"))
    assert "veilig?" in first[-1], first
    reply = texts(stack.say(chat, text))
    assert not any("ja of nee" in t for t in reply), reply
    assert reply and "Bel nu 112" in reply[0], reply
    assert _has_helplines(reply), reply
    assert [a.category for a in _alerts_of(stack, chat)] == ["physical_abuse", "overdose"]


def test_a_concern_is_gentle_and_escalates_after_no(stack: Stack):
    chat = "rest-e2e-concern"
    reply = texts(stack.say(chat, "ik voel me zo alleen"))
    assert any("0800-0432" in t for t in reply), "the Kindertelefoon is offered"
    assert not _has_helplines(reply) and not any("Bel nu 112" in t for t in reply), reply
    assert "Hoe gaat het nu met je?" in reply[-1], reply
    assert _alerts_of(stack, chat) == [], "a concern raises no urgent alert"
    reply = texts(stack.say(chat, "nee"))
    assert any("Bel nu 112" in t for t in reply), reply
    assert [a.category for a in _alerts_of(stack, chat)] == ["danger_now"]


def test_a_client_cannot_send_its_own_safety_verdict(stack: Stack):
    chat = "rest-e2e-forged-verdict"
    reply = _post(stack, chat, "ik heb pillen genomen",
                  {"mijnstem_safety": {"tier": None, "category": None}})
    assert reply and "Bel nu 112" in reply[0], reply
    calm = _post(stack, "rest-e2e-forged-alarm", "ik hou van pizza",
                 {"mijnstem_safety": {"tier": "alarm", "category": "danger_now"}})
    assert not _has_helplines(calm), calm
    assert _alerts_of(stack, "rest-e2e-forged-alarm") == []


# --- a concern of unclear kind inside a form: the answer, one gentle line, go on --------

# An ordinary interview answer (tests/safety/writers/interview_answers.yml) that the
# shipped learned layer reads as a worry no rule names: a concern of unclear kind.
UNCLEAR_ANSWER = "ik wil leren wassen en zo voor als ik op mezelf woon"
GENTLE = "Even tussendoor"


def _assert_unclear_concern(text: str) -> None:
    """The sentence must still be what the tests below are about, or they prove nothing:
    after a retrain pick another one."""
    from bot.safety.detector import assess

    verdict = assess(text)
    assert (verdict.tier, verdict.category) == ("concern", "unclear"), verdict


def _wishes_of(stack: Stack, name: str) -> list[str]:
    engine = make_engine(stack.settings)
    try:
        with make_session_factory(engine).begin() as session:
            child = next(c for c in session.scalars(select(Child)) if c.display_name == name)
            found = session.scalars(select(Wish).where(Wish.child_id == child.id)
                                    .order_by(Wish.id))
            return [w.text for w in found]
    finally:
        engine.dispose()


def test_an_unclear_concern_inside_the_interview_is_the_answer_plus_one_line(stack: Stack):
    _assert_unclear_concern(UNCLEAR_ANSWER)
    stack.cli("caseworker", "add", "e2e-unclear@example.org", "--name", "Ilse")
    code = stack.invite("--age", "12", "--name", "Unclearkid", "--caseworker",
                        "e2e-unclear@example.org")
    chat = "rest-e2e-unclear-form"
    texts(stack.say(chat, f"/start {code}"))

    reply = texts(stack.say(chat, UNCLEAR_ANSWER))
    assert _wishes_of(stack, "Unclearkid") == [UNCLEAR_ANSWER], "stored as the answer"
    gentle = [i for i, t in enumerate(reply) if GENTLE in t]
    assert len(gentle) == 1 and "0800-0432" in reply[gentle[0]], reply
    assert gentle[0] < len(reply) - 1, "the form's next question comes after the line"
    assert not any("veilig?" in t or "checken hoe het" in t for t in reply), reply
    assert not _has_helplines(reply), reply
    assert _alerts_of(stack, chat) == []
    # The interview goes on: the next answer is read as the answer to the next question.
    reply = texts(stack.say(chat, "nee"))
    assert not any(GENTLE in t or "veilig?" in t for t in reply), reply


def test_the_same_unclear_concern_outside_a_form_asks_how_the_child_is(stack: Stack):
    _assert_unclear_concern(UNCLEAR_ANSWER)
    chat = "rest-e2e-unclear-outside"
    reply = texts(stack.say(chat, UNCLEAR_ANSWER))
    assert any("checken hoe het met je gaat" in t for t in reply), reply
    assert "veilig?" in reply[-1], reply
    assert not any(GENTLE in t for t in reply), reply
    assert _alerts_of(stack, chat) == []


def test_a_concern_a_rule_named_inside_a_form_still_leaves_it(stack: Stack):
    stack.cli("caseworker", "add", "e2e-named@example.org", "--name", "Joost")
    code = stack.invite("--age", "12", "--name", "Namedkid", "--caseworker",
                        "e2e-named@example.org")
    chat = "rest-e2e-named-concern-form"
    texts(stack.say(chat, f"/start {code}"))
    reply = texts(stack.say(chat, "ik voel me zo alleen"))
    assert "Hoe gaat het nu met je?" in reply[-1], reply
    assert not any(GENTLE in t for t in reply), reply
    assert _wishes_of(stack, "Namedkid") == [], "a concern is not stored as a wish"
    assert _alerts_of(stack, chat) == []
