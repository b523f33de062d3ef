"""Server-side portal sessions. The browser holds a random token in a `__Host-` cookie;
the database holds its keyed hash, the account, the sign-in stage and the CSRF token.
Signing out deletes the row, so a stolen cookie stops working at once.

A session ends after IDLE without use, and after MAX_AGE in any case."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.pseudonym import keyed_hash
from bot.settings import Settings
from bot.storage.models import Caseworker, PortalSession, utcnow

IDLE = timedelta(minutes=30)
MAX_AGE = timedelta(hours=10)
STAGES = ("ok", "totp", "enrol")
MAX_TOTP_FAILURES = 5


def token_hash(secret: str, token: str) -> str:
    return keyed_hash(secret, "portal-session:" + token)


@dataclass(frozen=True)
class Current:
    """The signed-in account for this request and its session row."""

    account: Caseworker
    row: PortalSession

    @property
    def csrf(self) -> str:
        return self.row.csrf_token


def start(
    *, session: Session, secret: str, account: Caseworker, stage: str, now: datetime | None = None
) -> str:
    """A new session (after a correct password); returns the cookie's token."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    token = secrets.token_urlsafe(32)
    when = now or utcnow()
    session.add(
        PortalSession(
            token_hash=token_hash(secret, token),
            caseworker_id=account.id,
            stage=stage,
            csrf_token=secrets.token_urlsafe(32),
            created_at=when,
            last_seen_at=when,
        )
    )
    session.flush()
    return token


def load(
    *, session: Session, secret: str, token: str | None, now: datetime | None = None
) -> Current | None:
    """The session for this token, if it exists, is not too old and its account is
    still active; touches `last_seen_at`. An expired session is deleted."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        select(PortalSession).where(PortalSession.token_hash == token_hash(secret, token))
    )
    if row is None:
        return None
    when = now or utcnow()
    account = session.get(Caseworker, row.caseworker_id)
    if (
        account is None
        or not account.active
        or when - row.last_seen_at > IDLE
        or when - row.created_at > MAX_AGE
    ):
        session.delete(row)
        session.flush()
        return None
    row.last_seen_at = when
    session.flush()
    return Current(account=account, row=row)


def set_stage(*, session: Session, current: Current, stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    current.row.stage = stage
    current.row.pending_totp = None
    current.row.totp_failures = 0
    # A new CSRF token for each step up in trust.
    current.row.csrf_token = secrets.token_urlsafe(32)
    session.flush()


def end(*, session: Session, current: Current) -> None:
    session.delete(current.row)
    session.flush()


def end_all(*, session: Session, account_id: int) -> int:
    """Sign an account out everywhere (deactivated, password changed)."""
    result = session.execute(delete(PortalSession).where(PortalSession.caseworker_id == account_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def csrf_ok(current: Current, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(
        current.row.csrf_token.encode(), (submitted or "").encode()
    )


def purge_expired(*, session: Session, now: datetime | None = None) -> int:
    when = now or utcnow()
    result = session.execute(
        delete(PortalSession).where(
            (PortalSession.last_seen_at < when - IDLE) | (PortalSession.created_at < when - MAX_AGE)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_once(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Worker job (bot/worker.py)."""
    with sessions.begin() as session:
        purge_expired(session=session)
