"""Issue 3 end to end: the whole interview of an 8-year-old and of a 15-year-old over
Rasa's REST channel, with the real Rasa server and action server, then every stored row."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Answer, Person, SharedSummary, TrustedPerson, Wish
from tests.e2e.conftest import SKIP_AFTER_WISHES, texts
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
    assert "belangrijk" in people and "Nog 5 stukjes" in people

    confirm = _joined(_say(stack, chat, "mn oma en me broertje daan"))
    assert "• oma\n• broertje Daan" in confirm
    assert "Hoe belangrijk is oma" in _joined(_say(stack, chat, "ja"))
    _say(stack, chat, '/choose{"choice":"1"}')
    # 6-9: two questions per person; a brother is asked whether he lives with the child.
    assert "Woont broertje Daan bij jou" in _joined(
        _say(stack, chat, '/choose{"choice":"more"}'))

    # Stop in the middle; coming back, the bot says where they were and asks again.
    assert "stoppen" in _joined(_say(stack, chat, "stop"))
    back = _joined(_say(stack, chat, "hoi"))
    assert "We waren bij mensen die belangrijk zijn" in back
    assert back.endswith("Woont broertje Daan bij jou in huis?")

    assert "vaker zien" in _joined(_say(stack, chat, '/choose{"choice":"apart"}'))
    _say(stack, chat, "vaker")
    assert "Wie mis je?" in _joined(_say(stack, chat, "nee"))
    assert "vertrouwt" in _joined(_say(stack, chat, "mijn neef Tim"))
    # Someone already named is suggested; the child names someone else.
    assert "Is dat misschien oma?" in _joined(_say(stack, chat, "ja"))
    assert "Weet juf Sanne" in _joined(_say(stack, chat, "nee, mijn juf sanne"))
    assert "Kim" in _joined(_say(stack, chat, "ja"))  # involved? only with a yes
    _say(stack, chat, "ja")
    _say(stack, chat, "weet ik niet")  # own say: skipped
    _say(stack, chat, "dat ik in dit huis blijf")
    _say(stack, chat, "/deny")  # nothing changed lately
    summary = _say(stack, chat, "dat ik mijn moeder mis")
    listed = _joined(summary)
    assert "Dit heb ik opgeschreven" in listed and "8. Je bericht" in listed
    assert "Je wilt vaker bij oma zijn." in listed and "Je mist neef Tim." in listed
    assert [b["title"] for b in summary[-1]["buttons"]] == ["Alles ✅", "Ik kies zelf 👆",
                                                          "Niets 🔒", "Overslaan ⏭️"]

    first = _joined(_say(stack, chat, '/choose{"choice":"each"}'))
    assert "1. Je wens: ik wil een hond" in first
    for answer in ["ja", "nee", "ja", "ja", "ja", "nee", "ja"]:
        _say(stack, chat, answer)
    done = _joined(_say(stack, chat, "ja"))
    assert "📬" in done

    wishes = _rows(stack, Wish, child_id)
    assert [(w.text, w.topic, w.shared) for w in wishes] == [
        ("ik wil een hond", "hobby", True), ("een telefoon", "toekomst", False)]
    people_rows = _rows(stack, Person, child_id)
    assert [(p.label, p.name, p.role, p.ring, p.frequency, p.contact_wish, p.placed_together,
             p.missed, p.shared) for p in people_rows] == [
        ("oma", None, "oma", 1, None, "more", None, None, True),
        ("broertje Daan", "Daan", "broer", None, None, "more", False, None, True),
        ("neef Tim", "Tim", "neef", None, None, None, None, True, True),
    ]
    (trusted,) = _rows(stack, TrustedPerson, child_id)
    assert (trusted.has_someone, trusted.who, trusted.person_knows, trusted.wants_help,
            trusted.wants_involved, trusted.shared) == (True, "juf Sanne", True, None, True,
                                                        False)
    answers = _rows(stack, Answer, child_id)
    assert [(a.topic, a.text, a.shared) for a in answers] == [
        ("keep_same", "dat ik in dit huis blijf", True),
        ("message", "dat ik mijn moeder mis", True),
    ]
    (outbox,) = _rows(stack, SharedSummary, child_id)
    assert outbox.caseworker_id is not None
    assert outbox.body.splitlines() == [
        "• Wens (hobby): ik wil een hond",
        "• Belangrijk: oma (heel dichtbij, wil vaker contact)",
        "• Belangrijk: broertje Daan (woont ergens anders, wil vaker contact)",
        "• Gemist (geen contact meer): neef Tim",
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
    assert "Hoe belangrijk is vriend Mo" in _joined(_say(stack, chat, "klopt"))
    _say(stack, chat, "binnenste")
    _say(stack, chat, "dagelijks")
    assert "mentor" in _joined(_say(stack, chat, "evenveel"))
    _say(stack, chat, "3")
    _say(stack, chat, "maandelijks")
    _say(stack, chat, "minder")
    assert "contact" in _joined(_say(stack, chat, "nee"))  # "Wie mis je?"
    _say(stack, chat, "niemand")
    assert "hulp" in _joined(_say(stack, chat, "nee"))  # no one trusted: help offered
    _say(stack, chat, "nee")
    _say(stack, chat, "wie er bij mijn gesprekken is")
    _say(stack, chat, "overslaan")
    _say(stack, chat, "ik ben verhuisd naar een gezinshuis")
    summary = _joined(_say(stack, chat, "dat ik meer zelf wil beslissen"))
    assert "8. Je bericht" in summary and "Zonder jouw ja" in summary
    # No caseworker: the bot does not say it "sent" it to one.
    shared = _joined(_say(stack, chat, "1 3 5"))
    assert "team van jeugdzorg" in shared and "gestuurd" not in shared

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

    # Days later: per topic, shown what they said and asked what changed; then shared.
    back = _joined(_say(stack, chat, "hoi"))
    assert "Vorige keer over je wensen" in back and "rijles" in back and "🔒" in back
    assert "wat is er veranderd" in back.lower()
    people = _joined(_say(stack, chat, "ik heb nu een bijbaantje"))
    assert "Vorige keer over mensen" in people and "Vriend Mo" in people
    for _ in range(5):  # people, trusted, own say, continuity, message: nothing new
        last = _joined(_say(stack, chat, "nee"))
    assert "opnieuw" in last.lower() or "aanpassen" in last.lower(), last
    update = _joined(_say(stack, chat, "nee"))
    assert "1. Nieuw sinds de vorige keer: ik heb nu een bijbaantje" in update
    _say(stack, chat, "alles")
    (update_row,) = [a for a in _rows(stack, Answer, child_id) if a.topic == "update_wishes"]
    assert update_row.shared is True
    assert len(_rows(stack, SharedSummary, child_id)) == 2


def test_a_finished_child_who_comes_back_with_news_is_heard(stack: Stack):
    child_id, code = _invite(stack, "--age", "13", "--name", "Sem")
    chat = "rest-e2e-returning-news"
    _say(stack, chat, f"/start {code}")
    _say(stack, chat, "overslaan")
    replies: list[str] = []
    for message in SKIP_AFTER_WISHES:
        replies = texts(_say(stack, chat, message))
    assert any("Dank je" in t for t in replies), replies  # all done, nothing to share

    # Days later the child types something: it is kept, never lost to "all done".
    news = "ik woon sinds vorige week bij mijn tante"
    heard = _joined(_say(stack, chat, news))
    assert "bewaard" in heard and f"1. Nieuw sinds de vorige keer: {news}" in heard
    (row,) = _rows(stack, Answer, child_id)
    assert (row.topic, row.text, row.shared) == ("update", news, None)
    _say(stack, chat, "alles")
    (row,) = _rows(stack, Answer, child_id)
    assert row.shared is True
