"""Portal accounts for caseworkers, team leads and admins: creation, argon2 passwords,
and a login check with lock-out after repeated failures. The portal (bot/web) owns the
session and TOTP flow; these functions own what is stored. Each takes the session as a
keyword argument; the caller owns the transaction."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.roles import ROLES as ROLES  # re-exported: accounts.ROLES
from bot.storage.models import Caseworker, utcnow

MIN_PASSWORD_LENGTH = 12
# Defaults; the portal passes its settings in.
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class AccountError(ValueError):
    """A value cannot be used for an account (unknown role, weak password...)."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create(
    *, session: Session, email: str, name: str, role: str = "caseworker", team: str | None = None
) -> Caseworker:
    """A new account without a password (set one with `set_password`). Raises
    AccountError for an unknown role; IntegrityError (at flush) for a taken e-mail."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise AccountError("a name is needed")
    account = Caseworker(
        email=normalise_email(email), name=name.strip(), role=role,
        team=(team or "").strip() or None,
    )
    session.add(account)
    session.flush()
    return account


def get_by_email(*, session: Session, email: str) -> Caseworker | None:
    return session.scalar(select(Caseworker).where(Caseworker.email == normalise_email(email)))


def get(*, session: Session, account_id: int) -> Caseworker | None:
    return session.get(Caseworker, account_id)


def list_by_team(
    *, session: Session, team: str | None, role: str | None = None, active_only: bool = True
) -> list[Caseworker]:
    """Accounts of one team (team None: accounts without a team), by name."""
    query = select(Caseworker).where(
        Caseworker.team.is_(None) if team is None else Caseworker.team == team
    )
    if role is not None:
        query = query.where(Caseworker.role == role)
    if active_only:
        query = query.where(Caseworker.active.is_(True))
    return list(session.scalars(query.order_by(Caseworker.name, Caseworker.id)))


def list_all(*, session: Session) -> list[Caseworker]:
    """Every account (the admin's page), by team and name."""
    return list(session.scalars(select(Caseworker).order_by(Caseworker.team, Caseworker.name)))


def team_leads(*, session: Session, team: str | None) -> list[Caseworker]:
    """Who gets a team's inbox and escalations: the active team leads of that team;
    for a child without a team, every active team lead."""
    query = select(Caseworker).where(
        Caseworker.role == "teamlead", Caseworker.active.is_(True)
    )
    if team is not None:
        query = query.where(Caseworker.team == team)
    return list(session.scalars(query.order_by(Caseworker.id)))


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip() != password or not password.strip():
        raise AccountError("a password must not start or end with a space")


def set_password(*, session: Session, account: Caseworker, password: str) -> None:
    """Hash and store a new password (argon2id); clears a lock-out."""
    check_password_strength(password)
    account.password_hash = _hasher.hash(password)
    account.failed_logins = 0
    account.locked_until = None
    session.flush()


@dataclass(frozen=True)
class LoginResult:
    """`account` is set only when `ok`. `reason`: ok | unknown | locked | wrong |
    inactive | no_password. The portal shows the same message for all failures."""

    ok: bool
    reason: str
    account: Caseworker | None = None
    locked_until: datetime | None = None


def verify_login(
    *,
    session: Session,
    email: str,
    password: str,
    now: datetime | None = None,
    max_failed: int = MAX_FAILED_LOGINS,
    lock_minutes: int = LOCK_MINUTES,
) -> LoginResult:
    """Check a password. After `max_failed` wrong passwords in a row the account locks
    for `lock_minutes`; while locked even the right password is refused. A success
    resets the counter and records `last_login_at`. For an unknown e-mail a hash is
    still verified, so the answer takes as long as for a known one."""
    now = now or utcnow()
    account = get_by_email(session=session, email=email)
    if account is None:
        _spend_time(password)
        return LoginResult(False, "unknown")
    if account.locked_until is not None and account.locked_until > now:
        return LoginResult(False, "locked", locked_until=account.locked_until)
    if not account.active:
        _spend_time(password)
        return LoginResult(False, "inactive")
    if account.password_hash is None:
        _spend_time(password)
        return LoginResult(False, "no_password")
    try:
        _hasher.verify(account.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        account.failed_logins += 1
        if account.failed_logins >= max_failed:
            account.locked_until = now + timedelta(minutes=lock_minutes)
            account.failed_logins = 0
            session.flush()
            return LoginResult(False, "locked", locked_until=account.locked_until)
        session.flush()
        return LoginResult(False, "wrong")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    session.flush()
    return LoginResult(True, "ok", account)


_DUMMY_HASH: str | None = None


def _spend_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not a real password, only for timing")
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def set_totp_secret(
    *, session: Session, account: Caseworker, secret: str | None, used_step: int | None = None
) -> None:
    """Store (or with None remove) the confirmed TOTP secret; encrypted at rest.
    `used_step`: the time step of the code that confirmed it (from `totp_step`), so that
    this code cannot sign in as well."""
    account.totp_secret = secret
    account.totp_last_step = used_step if secret is not None else None
    session.flush()


def totp_step(secret: str, code: str, *, now: datetime | None = None) -> int | None:
    """The time step (30-second counter) whose code `code` is, within one step of `now`
    either way (a phone's clock may be a little off, as pyotp's `valid_window=1`); None
    when it matches none."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in (current - 1, current, current + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def accept_totp(
    *, session: Session, account: Caseworker, code: str, now: datetime | None = None
) -> bool:
    """True when `code` is a valid TOTP code of the account's secret and no code of this
    or a later time step was accepted before: a code works once, even by a second
    request at the same moment (one conditional UPDATE decides)."""
    if not account.totp_secret:
        return False
    step = totp_step(account.totp_secret, code, now=now)
    if step is None:
        return False
    done = session.execute(
        update(Caseworker)
        .where(
            Caseworker.id == account.id,
            or_(Caseworker.totp_last_step.is_(None), Caseworker.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    accepted = bool(getattr(done, "rowcount", 0) == 1)
    if accepted:
        # The row holds it already: update the loaded copy without marking it changed.
        set_committed_value(account, "totp_last_step", step)
    return accepted


def set_active(*, session: Session, account: Caseworker, active: bool) -> None:
    account.active = active
    session.flush()


def set_role(*, session: Session, account: Caseworker, role: str, team: str | None) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    account.role = role
    account.team = (team or "").strip() or None
    session.flush()
