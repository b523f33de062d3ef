"""Caseworkers link their own Telegram chat to get notifications.

`python -m bot caseworker telegram-code EMAIL` prints a one-time code; the caseworker
sends `/start CODE` to the bot (or opens the t.me deep link). Only a keyed hash of the
code is stored, in its own hash domain, so it can never match a child's invite.
"""

from __future__ import annotations

import argparse
import enum
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot import invites
from bot.pseudonym import keyed_hash
from bot.settings import Settings
from bot.storage import migrate, repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Caseworker, CaseworkerInvite, utcnow

# A caseworker code links a chat that will hear about children: valid for a short time.
CODE_TTL = timedelta(hours=48)


def code_hash(secret: str, code: str) -> str:
    return keyed_hash(secret, "caseworker-invite:" + invites.normalise(code))


def create_code(
    *, session: Session, secret: str, caseworker: Caseworker, now: datetime | None = None
) -> tuple[str, CaseworkerInvite]:
    created = now or utcnow()
    code = invites.new_code()
    invite = CaseworkerInvite(
        code_hash=code_hash(secret, code),
        caseworker_id=caseworker.id,
        created_at=created,
        expires_at=created + CODE_TTL,
    )
    session.add(invite)
    session.flush()
    return code, invite


class LinkOutcome(enum.Enum):
    LINKED = "linked"
    EXPIRED = "expired"
    USED = "used"
    NOT_A_CASEWORKER_CODE = "not_a_caseworker_code"


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    caseworker_name: str | None = None


def link_chat(
    *, session: Session, secret: str, code: str, chat_id: int, now: datetime | None = None
) -> LinkResult:
    """Link the chat when `code` is a caseworker code; anything else is a child's."""
    if not invites.looks_like_code(code):
        return LinkResult(LinkOutcome.NOT_A_CASEWORKER_CODE)
    invite = session.scalar(
        select(CaseworkerInvite).where(CaseworkerInvite.code_hash == code_hash(secret, code))
    )
    if invite is None:
        return LinkResult(LinkOutcome.NOT_A_CASEWORKER_CODE)
    now = now or utcnow()
    caseworker = session.get(Caseworker, invite.caseworker_id)
    if invite.used_at is not None:
        return LinkResult(LinkOutcome.USED)
    if invite.expires_at <= now or caseworker is None:
        return LinkResult(LinkOutcome.EXPIRED)
    invite.used_at = now
    caseworker.telegram_chat = str(chat_id)
    session.flush()
    return LinkResult(LinkOutcome.LINKED, caseworker.name)


def invite_command(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m bot caseworker telegram-code EMAIL`."""
    try:
        engine = make_engine(settings)
        migrate.upgrade(engine)
    except OperationalError as exc:
        print(f"error: the database cannot be reached ({exc.orig})", file=sys.stderr)
        return 2
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            try:
                caseworker = repo.get_caseworker(session=session, email=args.email)
            except repo.NotFound as exc:
                print(f"error: {exc} (add one first: python -m bot caseworker add EMAIL "
                      "--name NAME)", file=sys.stderr)
                return 2
            code, invite = create_code(
                session=session, secret=settings.pseudonym_secret, caseworker=caseworker
            )
            print(f"telegram code for {caseworker.email}, valid until "
                  f"{invite.expires_at:%Y-%m-%d %H:%M} UTC (one use)")
            if settings.telegram_bot_username:
                print(f"open: https://t.me/{settings.telegram_bot_username}"
                      f"?start={invites.normalise(code)}")
            print(f"or send the bot: /start {code}")
            print(code)
    finally:
        engine.dispose()
    return 0
