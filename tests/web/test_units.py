"""Small pure parts of the web chat: cookie signing, cleaning text, rate limits, purging."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.models import WebSession, utcnow
from bot.web import tokens as signing
from bot.web.chat_service import clean_text, typed_text_for_rasa
from bot.web.limits import RateLimit
from bot.web.rasa import parse_reply
from bot.web.store import MAX_IDLE, Entry, WebChat, purge_idle, sender_for

SECRET = "s3cret"


def test_signing_round_trip_and_tampering() -> None:
    signed = signing.sign(SECRET, "session", "abc_DEF-123", now=1_000_000)
    assert signing.unsign(SECRET, "session", signed, max_age=60, now=1_000_030) == "abc_DEF-123"
    value, issued, mac = signed.split(".")
    other_time = signing.sign(SECRET, "session", "abc_DEF-123", now=1_000_001).split(".")[1]
    refused = [
        None,
        "",
        "abc",
        "a.b.c",
        f"{value}.{issued}.",
        f"x{value}.{issued}.{mac}",
        f"{value}.{other_time}.{mac}",
        signed + "A",
        "." * 600,
    ]
    for bad in refused:
        assert signing.unsign(SECRET, "session", bad, max_age=60, now=1_000_030) is None
    assert signing.unsign("other", "session", signed, max_age=60, now=1_000_030) is None
    assert signing.unsign(SECRET, "code", signed, max_age=60, now=1_000_030) is None
    assert signing.unsign(SECRET, "session", signed, max_age=60, now=1_000_061) is None
    assert signing.unsign(SECRET, "session", signed, max_age=60, now=999_000) is None


def test_clean_text() -> None:
    assert clean_text("  hoi\r\n\r\n\r\n\r\ndaar\t! ") == "hoi\n\ndaar !"
    assert clean_text("a\x00\x1b[31mb\x7f\u0085c") == "a[31mbc"
    assert clean_text("\ud83d kapot") == "kapot"
    # Emoji sequences (zero-width joiners, variation selectors) stay whole.
    family = "👨\u200d👩\u200d👧 ❤️"
    assert clean_text(family) == family


def test_typed_slash_text() -> None:
    assert typed_text_for_rasa("/restart") == "restart"
    assert typed_text_for_rasa("/affirm") == "affirm"
    assert typed_text_for_rasa("/START K7MP-Q2XR") == "/START K7MP-Q2XR"
    assert typed_text_for_rasa("/hulp") == "/hulp"
    assert typed_text_for_rasa("1/2 pizza") == "1/2 pizza"


def test_rate_limit_window() -> None:
    limit = RateLimit(3, window=60)
    assert [limit.hit("a", now=t) for t in (0, 1, 2)] == [None, None, None]
    assert limit.hit("a", now=30) == 30
    assert limit.hit("b", now=30) is None
    assert limit.hit("a", now=60.5) is None


def test_parse_reply_keeps_text_and_buttons() -> None:
    messages = parse_reply(
        [
            {"recipient_id": "x", "text": "Hoi"},
            {"recipient_id": "x", "image": "https://example.org/a.png"},
            {"text": "Kies", "buttons": [{"title": "Ja", "payload": "/affirm"}, {"title": "x"}]},
            "nonsense",
        ]
    )
    assert [(m.text, [(b.title, b.payload) for b in m.buttons]) for m in messages] == [
        ("Hoi", []),
        ("Kies", [("Ja", "/affirm")]),
    ]


def test_open_buttons_are_those_of_the_last_bot_turn() -> None:
    transcript = [
        Entry("bot", "a", [("Ja", "/affirm")]),
        Entry("child", "Ja"),
        Entry("bot", "b"),
        Entry("bot", "c", [("Nee", "/deny"), ("Stop", "/stop")]),
    ]
    chat = WebChat(id=1, sender="web-x", transcript=transcript, pending_text=None, linked=False)
    assert chat.open_buttons == [("Nee", "/deny"), ("Stop", "/stop")]
    answered = WebChat(1, "web-x", [*transcript, Entry("child", "Nee")], None, False)
    assert answered.open_buttons == []


def test_sender_is_keyed_and_stable() -> None:
    assert sender_for(SECRET, "tok") == sender_for(SECRET, "tok")
    assert sender_for(SECRET, "tok") != sender_for("other", "tok")
    assert sender_for(SECRET, "tok").startswith("web-") and "tok" not in sender_for(SECRET, "tok")


def test_purge_idle_sessions(web_db: sessionmaker[Session]) -> None:
    now = utcnow()
    with web_db.begin() as session:
        for name, seen in [
            ("fresh", now),
            ("old", now - MAX_IDLE - timedelta(hours=1)),
            ("unlinked-day", now - timedelta(days=2)),
        ]:
            session.add(WebSession(token_hash=name, transcript="[]", last_seen_at=seen))
    with web_db.begin() as session:
        assert purge_idle(session=session) == 2
    with web_db.begin() as session:
        assert session.scalars(select(WebSession.token_hash)).all() == ["fresh"]
