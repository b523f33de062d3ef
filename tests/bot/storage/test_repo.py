"""Repository behaviour on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import invites
from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import migrate, repo
from bot.storage.models import utcnow


def _child_with_invite(sessions: sessionmaker[Session], settings: Settings, code: str, **kw):
    with sessions.begin() as session:
        caseworker = repo.add_caseworker(session=session, email="Sanne@Example.org", name="Sanne")
        child = repo.create_child(
            session=session, display_name="Noor", age=8, age_group="6-9", caseworker=caseworker
        )
        repo.create_invite(
            session=session,
            child=child,
            code_hash=invites.code_hash(settings.pseudonym_secret, code),
            ttl=kw.get("ttl", timedelta(days=14)),
            now=kw.get("now"),
        )
        return child.id


def _redeem(sessions, settings, code: str, sender: str):
    with sessions.begin() as session:
        return repo.redeem_invite(
            session=session,
            code_hash=invites.code_hash(settings.pseudonym_secret, code),
            sender_hash=sender_hash(settings.pseudonym_secret, sender),
            channel="rest",
        ).status


def test_invite_links_once_then_reports_used(sessions, settings):
    _child_with_invite(sessions, settings, "K7MP-Q2XR")
    assert _redeem(sessions, settings, "k7mp q2xr", "chat-a") is repo.LinkStatus.LINKED
    # The same chat again: a friendly "already linked", not an error.
    assert _redeem(sessions, settings, "K7MPQ2XR", "chat-a") is repo.LinkStatus.ALREADY_LINKED
    # Another chat cannot reuse the code.
    assert _redeem(sessions, settings, "K7MP-Q2XR", "chat-b") is repo.LinkStatus.USED


def test_an_issued_invite_keeps_only_the_code_hash(sessions, settings):
    with sessions.begin() as session:
        child = repo.create_child(
            session=session, display_name="Noor", age=8, age_group="6-9", caseworker=None
        )
        code, invite = repo.issue_invite(
            session=session, child=child, secret=settings.pseudonym_secret, ttl=timedelta(days=3)
        )
        assert invites.looks_like_code(code)
        assert invite.code_hash == invites.code_hash(settings.pseudonym_secret, code) != code
        assert invite.expires_at - invite.created_at == timedelta(days=3)
    assert _redeem(sessions, settings, code, "tg-1") is repo.LinkStatus.LINKED


def test_unknown_and_expired_codes(sessions, settings):
    _child_with_invite(
        sessions, settings, "ABCD-2345", ttl=timedelta(days=14), now=utcnow() - timedelta(days=15)
    )
    assert _redeem(sessions, settings, "ABCD-2345", "chat-a") is repo.LinkStatus.EXPIRED
    assert _redeem(sessions, settings, "ZZZZ-9999", "chat-a") is repo.LinkStatus.UNKNOWN


def test_wishes_are_rows_and_encrypted_at_rest(sessions, settings, engine: Engine):
    child_id = _child_with_invite(sessions, settings, "WXYZ-2345")
    with sessions.begin() as session:
        repo.add_wish(
            session=session, child_id=child_id, session_id=None, text="bij mijn broer wonen"
        )
        repo.add_wish(
            session=session, child_id=child_id, session_id=None, text="op voetbal blijven"
        )
    with sessions.begin() as session:
        assert [w.text for w in repo.list_wishes(session=session, child_id=child_id)] == [
            "bij mijn broer wonen",
            "op voetbal blijven",
        ]
    with engine.connect() as conn:
        raw = [row[0] for row in conn.execute(text("SELECT text FROM wish"))]
        name = conn.execute(text("SELECT display_name FROM child")).scalar_one()
    assert len(raw) == 2
    assert all("broer" not in value and "voetbal" not in value for value in raw)
    assert "Noor" not in name


def test_shared_summary_goes_to_the_childs_caseworker(sessions, settings):
    child_id = _child_with_invite(sessions, settings, "MNPQ-2345")
    with sessions.begin() as session:
        child = repo.get_child(session=session, child_id=child_id)
        repo.add_shared_summary(session=session, child=child, body="• een hond")
    with sessions.begin() as session:
        mine = repo.list_shared_summaries(session=session, caseworker_email="sanne@example.org")
        assert [s.body for s in mine] == ["• een hond"]
        with pytest.raises(repo.NotFound):
            repo.list_shared_summaries(session=session, caseworker_email="nobody@example.org")


def test_caseworker_email_is_unique(sessions):
    with sessions.begin() as session:
        repo.add_caseworker(session=session, email="a@example.org", name="A")
    with pytest.raises(IntegrityError), sessions.begin() as session:
        repo.add_caseworker(session=session, email="A@example.org ", name="A again")


def test_migrations_downgrade_and_upgrade(engine: Engine):
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert {"child", "invite", "wish", "shared_summary", "conversation_session"} <= set(
        inspect(engine).get_table_names()
    )
