"""The queue of kept messages and caseworker codes, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot import invites
from bot.settings import Settings
from bot.storage import repo
from bot.storage.models import Caseworker, CaseworkerInvite, utcnow
from bot.telegram import caseworkers, pending
from bot.telegram.caseworkers import LinkOutcome


def test_kept_messages_come_back_per_chat_in_order(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        pending.add(session=session, sender="tg-b", chat_id=222, text="b1")
        pending.add(session=session, sender="tg-a", chat_id=111, text="a1")
        pending.add(session=session, sender="tg-b", chat_id=222, text="b2")
    with sessions.begin() as session:
        assert pending.senders(session=session) == ["tg-b", "tg-a"]
        assert pending.has_pending(session=session, sender="tg-a")
        assert not pending.has_pending(session=session, sender="tg-c")
        first = pending.oldest(session=session, sender="tg-b")
        assert first is not None and (first.text, first.chat_id) == ("b1", 222)
        pending.remove(session=session, message_id=first.id)
    with sessions.begin() as session:
        second = pending.oldest(session=session, sender="tg-b")
        assert second is not None and second.text == "b2"
        assert pending.count_failure(session=session, message_id=second.id) == 1
        assert pending.count_failure(session=session, message_id=second.id) == 2
        assert pending.count(session=session) == 2


def test_kept_text_and_chat_are_encrypted_at_rest(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        pending.add(session=session, sender="tg-a", chat_id=918273645, text="ik wil een hond")
    with sessions.begin() as session:
        raw = session.execute(text("SELECT chat, text, sender FROM pending_message")).one()
    assert "918273645" not in raw.chat and "hond" not in raw.text
    assert raw.sender == "tg-a"


def _caseworker(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return repo.add_caseworker(session=session, email="Jet@Example.org", name="Jet").id


def test_caseworker_code_links_the_chat_once(settings: Settings,
                                            sessions: sessionmaker[Session]):
    cw_id = _caseworker(sessions)
    secret = settings.pseudonym_secret
    with sessions.begin() as session:
        caseworker = session.get(Caseworker, cw_id)
        assert caseworker is not None
        code, invite = caseworkers.create_code(session=session, secret=secret,
                                               caseworker=caseworker)
        # Only a keyed hash is stored, and never the child-invite hash of the same code.
        assert code.replace("-", "") not in invite.code_hash
        assert invite.code_hash != invites.code_hash(secret, code)
    with sessions.begin() as session:
        # "k7mp q2xr" style: lower case and a space instead of the dash work too.
        typed = code.lower().replace("-", " ")
        result = caseworkers.link_chat(session=session, secret=secret, code=typed, chat_id=4242)
        assert result == caseworkers.LinkResult(LinkOutcome.LINKED, "Jet")
    with sessions.begin() as session:
        assert session.get(Caseworker, cw_id).telegram_chat == "4242"  # type: ignore[union-attr]
        raw = session.execute(text("SELECT telegram_chat FROM caseworker")).scalar_one()
        assert "4242" not in raw
        again = caseworkers.link_chat(session=session, secret=secret, code=code, chat_id=5353)
        assert again.outcome is LinkOutcome.USED
    with sessions.begin() as session:
        assert session.get(Caseworker, cw_id).telegram_chat == "4242"  # type: ignore[union-attr]


def test_expired_and_unknown_codes(settings: Settings, sessions: sessionmaker[Session]):
    cw_id = _caseworker(sessions)
    secret = settings.pseudonym_secret
    with sessions.begin() as session:
        caseworker = session.get(Caseworker, cw_id)
        assert caseworker is not None
        code, _ = caseworkers.create_code(
            session=session, secret=secret, caseworker=caseworker,
            now=utcnow() - caseworkers.CODE_TTL - timedelta(minutes=1),
        )
    with sessions.begin() as session:
        expired = caseworkers.link_chat(session=session, secret=secret, code=code, chat_id=1)
        assert expired.outcome is LinkOutcome.EXPIRED
        # A child's code (or anything else) is not a caseworker's: it goes on to Rasa.
        other = caseworkers.link_chat(session=session, secret=secret, code="K7MP-Q2XR",
                                      chat_id=1)
        assert other.outcome is LinkOutcome.NOT_A_CASEWORKER_CODE
        words = caseworkers.link_chat(session=session, secret=secret, code="hallo", chat_id=1)
        assert words.outcome is LinkOutcome.NOT_A_CASEWORKER_CODE
        assert session.get(Caseworker, cw_id).telegram_chat is None  # type: ignore[union-attr]


def test_invite_command_prints_a_code_and_stores_its_hash(settings: Settings, capsys):
    from bot.storage.db import make_engine, make_session_factory

    engine = make_engine(settings)
    try:
        from bot.storage import migrate

        migrate.upgrade(engine)
        sessions = make_session_factory(engine)
        _caseworker(sessions)
        args = argparse.Namespace(email="jet@example.org")
        assert caseworkers.invite_command(settings, args) == 0
        code = capsys.readouterr().out.strip().splitlines()[-1]
        with sessions.begin() as session:
            stored = session.query(CaseworkerInvite).one()
            assert stored.code_hash == caseworkers.code_hash(settings.pseudonym_secret, code)
        assert caseworkers.invite_command(settings, argparse.Namespace(email="nobody@x.org")) == 2
    finally:
        engine.dispose()
