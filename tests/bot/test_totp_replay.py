"""A portal TOTP code is accepted once: the account keeps the last accepted time step
(bot/accounts.py), on SQLite and PostgreSQL. Times are fixed, so no test depends on
where in a 30-second window it runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyotp
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.storage import repo
from bot.storage.models import Caseworker

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # fixed: every run checks the same codes
NOW = datetime(2026, 12, 3, 12, 0, 15, tzinfo=timezone.utc)  # inside one 30 s step
STEP = 30


def code_at(when: datetime) -> str:
    return pyotp.TOTP(SECRET).at(when)


def _account(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        account = repo.add_caseworker(session=session, email="lead@example.org", name="Lea")
        accounts.set_totp_secret(session=session, account=account, secret=SECRET)
        return account.id


def _accept(sessions: sessionmaker[Session], account_id: int, code: str, now: datetime) -> bool:
    with sessions.begin() as session:
        account = session.get(Caseworker, account_id)
        assert account is not None
        return accounts.accept_totp(session=session, account=account, code=code, now=now)


def test_a_code_is_accepted_once(sessions: sessionmaker[Session]) -> None:
    account_id = _account(sessions)
    code = code_at(NOW)
    assert _accept(sessions, account_id, code, NOW)
    # The same code again, in the same window and in the next (still within the
    # one-step tolerance): refused.
    assert not _accept(sessions, account_id, code, NOW)
    assert not _accept(sessions, account_id, code, NOW + timedelta(seconds=STEP))
    # An older code that is still within the tolerance: refused as well.
    assert not _accept(sessions, account_id, code_at(NOW - timedelta(seconds=STEP)), NOW)
    # The next window's code works, once.
    later = NOW + timedelta(seconds=STEP)
    assert _accept(sessions, account_id, code_at(later), later)
    assert not _accept(sessions, account_id, code_at(later), later)
    with sessions.begin() as session:
        stored = session.get(Caseworker, account_id)
        assert stored is not None and stored.totp_last_step == pyotp.TOTP(SECRET).timecode(later)


def test_wrong_codes_and_accounts_without_totp(sessions: sessionmaker[Session]) -> None:
    account_id = _account(sessions)
    wrong = f"{(int(code_at(NOW)) + 1) % 1_000_000:06d}"
    assert not _accept(sessions, account_id, wrong, NOW)
    assert not _accept(sessions, account_id, code_at(NOW - timedelta(seconds=2 * STEP)), NOW)
    assert _accept(sessions, account_id, code_at(NOW), NOW)  # no step was used up
    with sessions.begin() as session:
        plain = repo.add_caseworker(session=session, email="sanne@example.org", name="Sanne")
        assert not accounts.accept_totp(session=session, account=plain, code=code_at(NOW))


def test_the_database_decides_not_a_stale_copy(sessions: sessionmaker[Session]) -> None:
    """Two requests with the same code at the same moment: the second one's copy of the
    account was loaded before the first was accepted, and is still refused."""
    account_id = _account(sessions)
    with sessions.begin() as session:
        stale = session.get(Caseworker, account_id)
        assert stale is not None and stale.totp_last_step is None
        secret = stale.totp_secret
        session.expunge(stale)
    assert secret == SECRET
    assert _accept(sessions, account_id, code_at(NOW), NOW)
    with sessions.begin() as session:
        assert not accounts.accept_totp(session=session, account=stale, code=code_at(NOW), now=NOW)


def test_the_enrolment_code_cannot_sign_in(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        account = repo.add_caseworker(session=session, email="lead@example.org", name="Lea")
        step = accounts.totp_step(SECRET, code_at(NOW), now=NOW)
        assert step == pyotp.TOTP(SECRET).timecode(NOW)
        accounts.set_totp_secret(session=session, account=account, secret=SECRET, used_step=step)
        account_id = account.id
    assert not _accept(sessions, account_id, code_at(NOW), NOW)
    later = NOW + timedelta(seconds=STEP)
    assert _accept(sessions, account_id, code_at(later), later)
    # Removing the secret forgets the step; a new secret starts afresh.
    with sessions.begin() as session:
        account = session.get(Caseworker, account_id)
        assert account is not None
        accounts.set_totp_secret(session=session, account=account, secret=None)
        assert account.totp_last_step is None
