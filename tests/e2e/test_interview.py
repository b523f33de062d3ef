"""Issue 3 end to end: the whole interview of an 8-year-old and of a 15-year-old over
Rasa's REST channel, with the real Rasa server and action server, then every stored row."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Answer, Person, SharedSummary, TrustedPerson, Wish
from tests.e2e.conftest import texts
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e


def _invite(stack: Stack, *args: str) -> tuple[int, str]:
    out = stack.cli("invite", *args).stdout.strip().splitlines()
    match = re.match(r"child (\d+),", out[0])
    assert match, out
    return int(match.group(1)), out[-1]


def _say(stack: Stack, chat: str, message: str) -> list[dict]:
    replies = stack.say(chat, message)
    assert replies, f"no answer to {message!r}"
    return replies


def _joined(replies: list[dict]) -> str:
    return "\n".join(texts(replies))


def _rows(stack: Stack, model, child_id: int) -> list:
    sessions = make_session_factory(make_engine(stack.settings))
    with sessions.begin() as session:
        return list(session.scalars(
            select(model).where(model.child_id == child_id).order_by(model.id)))


def test_an_eight_year_old_tells_everything_and_chooses_per_item(stack: Stack):
    stack.cli("caseworker", "add", "e2e-kim@example.org", "--name", "Kim")
    child_id, code = _invite(stack, "--age", "8", "--name", "Lotte",
                             "--caseworker", "e2e-kim@example.org")
    chat = "rest-e2e-interview-8"

    welcome = _say(stack, chat, f"/start {code}")
    assert "computer" in _joined(welcome)
    assert [b["payload"] for b in welcome[-1]["buttons"]] == ["/dont_know", "/skip"]
    _say(stack, chat, "ik wil een hond")
    _say(stack, chat, "ja")
    topic = _say(stack, chat, "een telefoon")
    assert any("🚀" in b["title"] for b in topic[-1]["buttons"]), "unknown topic: buttons"
    _say(stack, chat, '/choose{"choice":"toekomst"}')
    people = _joined(_say(stack, chat, "nee"))
    assert "belangrijk" in people and "Jij kiest wie het leest" in people

    confirm = _joined(_say(stack, chat, "mn oma en me broertje daan"))
    assert "• oma\n• broertje Daan" in confirm
    assert "Hoe dichtbij is oma" in _joined(_say(stack, chat, "ja"))
    _say(stack, chat, '/choose{"choice":"1"}')
    _say(stack, chat, '/choose{"choice":"weekly"}')
    assert "broertje Daan" in _joined(_say(stack, chat, '/choose{"choice":"more"}'))

    # Stop in the middle; coming back, the bot says where they were and asks again.
    assert "stoppen" in _joined(_say(stack, chat, "stop"))
    back = _joined(_say(stack, chat, "hoi"))
    assert "We waren bij mensen die belangrijk zijn" in back
    assert back.endswith("Hoe dichtbij is broertje Daan voor jou?")

    _say(stack, chat, '/choose{"choice":"2"}')
    _say(stack, chat, "nooit")
    _say(stack, chat, "vaker")
    assert "vertrouwt" in _joined(_say(stack, chat, "nee"))
    _say(stack, chat, "ja")
    assert "Weet juf Sanne" in _joined(_say(stack, chat, "mijn juf sanne"))
    _say(stack, chat, "ja")
    _say(stack, chat, "weet ik niet")  # own say: skipped
    _say(stack, chat, "dat ik in dit huis blijf")
    _say(stack, chat, "/deny")  # nothing changed lately
    summary = _say(stack, chat, "dat ik mijn moeder mis")
    listed = _joined(summary)
    assert "Dit heb ik opgeschreven" in listed and "7. Voor de jeugdzorgwerker" in listed
    assert [b["title"] for b in summary[-1]["buttons"]] == ["Alles ✅", "Ik kies zelf 👆",
                                                          "Niets 🔒"]

    first = _joined(_say(stack, chat, '/choose{"choice":"each"}'))
    assert "1. Wens (hobby): ik wil een hond" in first
    for answer in ["ja", "nee", "ja", "ja", "nee", "ja"]:
        _say(stack, chat, answer)
    done = _joined(_say(stack, chat, "ja"))
    assert "📬" in done

    wishes = _rows(stack, Wish, child_id)
    assert [(w.text, w.topic, w.shared) for w in wishes] == [
        ("ik wil een hond", "hobby", True), ("een telefoon", "toekomst", False)]
    people_rows = _rows(stack, Person, child_id)
    assert [(p.label, p.name, p.role, p.ring, p.frequency, p.contact_wish, p.shared)
            for p in people_rows] == [
        ("oma", None, "oma", 1, "weekly", "more", True),
        ("broertje Daan", "Daan", "broer", 2, "never", "more", True),
    ]
    (trusted,) = _rows(stack, TrustedPerson, child_id)
    assert (trusted.has_someone, trusted.who, trusted.person_knows, trusted.wants_help,
            trusted.shared) == (True, "mijn juf sanne", True, None, False)
    answers = _rows(stack, Answer, child_id)
    assert [(a.topic, a.text, a.shared) for a in answers] == [
        ("keep_same", "dat ik in dit huis blijf", True),
        ("message", "dat ik mijn moeder mis", True),
    ]
    (outbox,) = _rows(stack, SharedSummary, child_id)
    assert outbox.caseworker_id is not None
    assert outbox.body.splitlines() == [
        "• Wens (hobby): ik wil een hond",
        "• Belangrijk: oma (heel dichtbij, contact elke week, wil vaker contact)",
        "• Belangrijk: broertje Daan (dichtbij, nooit contact, wil vaker contact)",
        "• Moet hetzelfde blijven: dat ik in dit huis blijf",
        "• Voor de jeugdzorgwerker: dat ik mijn moeder mis",
    ]
    shared_rows = [*wishes, *people_rows, trusted, *answers]
    assert {r.shared_summary_id for r in shared_rows if r.shared} == {outbox.id}
    assert {r.shared_summary_id for r in shared_rows if not r.shared} == {None}
    # The child's words are encrypted at rest.
    engine = make_engine(stack.settings)
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT label FROM person WHERE child_id = :c"),
                           {"c": child_id}).scalars().all()
    assert raw and not any("oma" in value for value in raw)


def test_a_fifteen_year_old_types_answers_picks_numbers_and_comes_back(stack: Stack):
    child_id, code = _invite(stack, "--age", "15")
    chat = "rest-e2e-interview-15"

    assert "chatbot" in _joined(_say(stack, chat, f"/start {code}"))
    _say(stack, chat, "ik wil zelf bepalen wanneer ik mijn vader zie")
    _say(stack, chat, "en ik wil rijles als ik 17 ben")  # a second wish, typed at once
    assert "mensen die belangrijk" in _joined(_say(stack, chat, "nee"))
    wrong = _joined(_say(stack, chat, "mijn vriend mo, mijn mentor en Oma"))
    assert "• vriend Mo\n• mentor\n• Oma" in wrong
    assert "nog eens" in _joined(_say(stack, chat, "nee"))
    _say(stack, chat, "mijn vriend mo en mijn mentor")
    assert "hoe dicht staat vriend Mo" in _joined(_say(stack, chat, "klopt"))
    _say(stack, chat, "binnenste")
    _say(stack, chat, "dagelijks")
    assert "mentor" in _joined(_say(stack, chat, "evenveel"))
    _say(stack, chat, "3")
    _say(stack, chat, "maandelijks")
    _say(stack, chat, "minder")
    _say(stack, chat, "nee")
    assert "hulp" in _joined(_say(stack, chat, "nee"))  # no one trusted: help offered
    _say(stack, chat, "nee")
    _say(stack, chat, "wie er bij mijn gesprekken is")
    _say(stack, chat, "overslaan")
    _say(stack, chat, "ik ben verhuisd naar een gezinshuis")
    summary = _joined(_say(stack, chat, "dat ik meer zelf wil beslissen"))
    assert "8. Voor de jeugdzorgwerker" in summary and "Zonder jouw ja" in summary
    assert "Gedeeld wat je koos" in _joined(_say(stack, chat, "1 3 5"))

    wishes = _rows(stack, Wish, child_id)
    assert [(w.text, w.topic, w.shared) for w in wishes] == [
        ("ik wil zelf bepalen wanneer ik mijn vader zie", "contact", True),
        ("en ik wil rijles als ik 17 ben", "toekomst", False),
    ]
    people_rows = _rows(stack, Person, child_id)
    assert [(p.label, p.name, p.role, p.ring, p.frequency, p.contact_wish, p.shared)
            for p in people_rows] == [
        ("vriend Mo", "Mo", "vriend", 1, "daily", "same", True),
        ("mentor", None, "leraar", 3, "monthly", "less", False),
    ]
    (trusted,) = _rows(stack, TrustedPerson, child_id)
    assert (trusted.has_someone, trusted.who, trusted.person_knows, trusted.wants_help,
            trusted.shared) == (False, None, None, False, True)
    assert [(a.topic, a.text, a.shared) for a in _rows(stack, Answer, child_id)] == [
        ("own_say", "wie er bij mijn gesprekken is", False),
        ("changed", "ik ben verhuisd naar een gezinshuis", False),
        ("message", "dat ik meer zelf wil beslissen", False),
    ]
    (outbox,) = _rows(stack, SharedSummary, child_id)
    assert outbox.caseworker_id is None  # invited without a caseworker
    assert outbox.body.splitlines() == [
        "• Wens (familie en vrienden): ik wil zelf bepalen wanneer ik mijn vader zie",
        "• Belangrijk: vriend Mo (heel dichtbij, contact elke dag, wil evenveel contact)",
        "• Heeft nu geen vertrouwenspersoon, wil geen hulp bij het vinden van iemand",
    ]

    # Days later: shown what they said, asked what changed, then the update is shared.
    back = _joined(_say(stack, chat, "hoi"))
    assert "Vorige keer zei je dit" in back and "vriend Mo" in back and "🔒" in back
    assert "opnieuw" in _joined(_say(stack, chat, "ik heb nu een bijbaantje")).lower()
    update = _joined(_say(stack, chat, "nee"))
    assert "1. Nieuw sinds vorige keer: ik heb nu een bijbaantje" in update
    _say(stack, chat, "alles")
    (update_row,) = [a for a in _rows(stack, Answer, child_id) if a.topic == "update"]
    assert update_row.shared is True
    assert len(_rows(stack, SharedSummary, child_id)) == 2
