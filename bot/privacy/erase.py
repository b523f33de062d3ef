"""Erasure: "vergeet mij" (the child, in the chat) and `python -m bot forget CHILD`
(a caseworker, or retention once a closed case has expired).

Which rows belong to a child is worked out from the schema, not from a list of tables,
so tables added later are covered: any row whose foreign key points at the child or at
one of the child's chats (`conversation_session`), any `sender_hash` of those chats, and
any `sender` column holding a Rasa sender id whose keyed hash is one of them.

Two scopes:
- SELF ("vergeet mij"): everything the child said is deleted (answers, summaries, the
  web chat transcript, queued messages, alert excerpts, the tracker events of every chat
  of the child); the case record stays (the child row with the name the caseworker
  gave, invites, the chat links), so the child can start afresh without a new code.
- FULL (`forget`, retention): everything, the case record included.

Safeguarding alerts are kept in both scopes, without the child's words (their excerpt
is cleared): they record that the organisation was told a child was in danger and what
it did, which it must be able to show (GDPR art. 17(3)(b) and (e)).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, ColumnElement, Engine, Table, delete, false, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.privacy import tracker_db
from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage.models import Base, Child, ConversationSession

log = logging.getLogger("mijnstem.privacy")


class Scope(enum.Enum):
    SELF = "self"
    FULL = "full"


# Tables kept as they are on a SELF erase: the case record, no words of the child.
CASE_RECORD = frozenset({"child", "invite", "conversation_session"})
# Tables kept in some scope with these columns overwritten instead of deleted.
REDACT: dict[str, dict[str, Any]] = {
    "alert": {"excerpt": None},
    "web_session": {"transcript": "[]", "pending_text": None},
}
# Tables that are never deleted by an erasure, only redacted.
NEVER_DELETED = frozenset({"alert"})
# Tables that never hold a child's data although they may point at one. `link_attempt`
# (failed invite codes, a keyed hash and a time, gone after 15 minutes) is a security
# record: erasing it would let a chat reset its guessing limit with "vergeet mij".
# `chat_generation` (a keyed hash of a Telegram chat id and a session number) says
# nothing about a child; the chat's sessions stay apart after an erasure.
# `portal_session` is a caseworker's sign-in to the portal. `notice` is a caseworker's
# e-mail queue, which never carries a child's words ("er is iets nieuws voor je").
# `audit_event` is the accountability record of who looked at or changed what (action
# names and ids, no child's words); erasing a child must not erase who saw their file.
NOT_CHILD_DATA = frozenset({"caseworker", "caseworker_invite", "link_attempt",
                            "chat_generation", "portal_session", "notice", "audit_event"})


@dataclass(frozen=True)
class Owner:
    """Identifies a child's rows: the child, their chats and those chats' sender keys."""

    child_id: int | None
    session_ids: tuple[int, ...] = ()
    sender_keys: tuple[str, ...] = ()


@dataclass
class ErasureReport:
    rows: dict[str, int] = field(default_factory=dict)
    tracker_events: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values()) + self.tracker_events


def _fk_targets(column: Column[Any]) -> set[str]:
    return {fk.target_fullname for fk in column.foreign_keys}


def ownership(
    table: Table, owner: Owner, *, session: Session, pseudonym_secret: str
) -> ColumnElement[bool] | None:
    """The WHERE clause selecting this child's rows in `table`, or None if the table
    cannot hold any."""
    if table.name in NOT_CHILD_DATA:
        return None
    if table.name == "child":
        return table.c.id == owner.child_id if owner.child_id is not None else None
    conditions: list[ColumnElement[bool]] = []
    for column in table.columns:
        targets = _fk_targets(column)
        if "child.id" in targets and owner.child_id is not None:
            conditions.append(column == owner.child_id)
        elif "conversation_session.id" in targets and owner.session_ids:
            conditions.append(column.in_(owner.session_ids))
        elif "follow_up.id" in targets and owner.child_id is not None:
            # The team's replies to what the child shared.
            follow_up = table.metadata.tables["follow_up"]
            conditions.append(column.in_(
                select(follow_up.c.id).where(follow_up.c.child_id == owner.child_id)))
    if table.name == "conversation_session" and owner.sender_keys:
        conditions.append(table.c.sender_hash.in_(owner.sender_keys))
    elif "sender_hash" in table.c:
        conditions.append(table.c.sender_hash.in_(owner.sender_keys or ("",)))
    if "sender" in table.c and "id" in table.c:
        # Plain (pseudonymous) Rasa sender ids: compare their keyed hashes.
        keys = set(owner.sender_keys)
        ids = [
            row.id
            for row in session.execute(select(table.c.id, table.c.sender))
            if row.sender is not None and sender_hash(pseudonym_secret, row.sender) in keys
        ]
        conditions.append(table.c.id.in_(ids) if ids else false())
    if not conditions:
        return None
    return or_(*conditions)


def owner_of_child(*, session: Session, child_id: int, settings: Settings) -> Owner:
    chats = session.execute(
        select(ConversationSession.id, ConversationSession.sender_hash).where(
            ConversationSession.child_id == child_id
        )
    ).all()
    return Owner(
        child_id=child_id,
        session_ids=tuple(row.id for row in chats),
        sender_keys=tuple(row.sender_hash for row in chats),
    )


def owner_of_chat(*, session: Session, sender_id: str, settings: Settings) -> Owner:
    """The child linked to this chat, with all their chats; or just this chat."""
    key = sender_hash(settings.pseudonym_secret, sender_id)
    child_id = session.scalar(
        select(ConversationSession.child_id).where(ConversationSession.sender_hash == key)
    )
    if child_id is None:
        return Owner(child_id=None, sender_keys=(key,))
    owner = owner_of_child(session=session, child_id=child_id, settings=settings)
    return Owner(owner.child_id, owner.session_ids, tuple({*owner.sender_keys, key}))


def erase_rows(
    *, session: Session, owner: Owner, scope: Scope, settings: Settings
) -> dict[str, int]:
    """Delete or redact the child's rows in the app database (caller commits)."""
    counts: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        where = ownership(
            table, owner, session=session, pseudonym_secret=settings.pseudonym_secret
        )
        if where is None:
            continue
        if table.name in REDACT and (table.name in NEVER_DELETED or scope is Scope.SELF):
            result = session.execute(update(table).where(where).values(**REDACT[table.name]))
        elif table.name in NEVER_DELETED or (scope is Scope.SELF and table.name in CASE_RECORD):
            continue
        else:
            result = session.execute(delete(table).where(where))
        rowcount = int(getattr(result, "rowcount", 0) or 0)
        if rowcount:
            counts[table.name] = rowcount
    session.flush()
    return counts


def checkpoint_app_db(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def erase(
    settings: Settings, sessions: sessionmaker[Session], owner: Owner, scope: Scope
) -> ErasureReport:
    """Tracker events first, then the app rows: if the second step fails, running the
    erasure again still finds the chats to erase."""
    report = ErasureReport()
    report.tracker_events = tracker_db.erase_conversations(settings, list(owner.sender_keys))
    with sessions.begin() as session:
        report.rows = erase_rows(session=session, owner=owner, scope=scope, settings=settings)
        engine = session.get_bind()
    if isinstance(engine, Engine):
        checkpoint_app_db(engine)
    log.info("erased (%s): %s rows, %s tracker events", scope.value,
             sum(report.rows.values()), report.tracker_events)
    return report


def forget_child(
    settings: Settings, sessions: sessionmaker[Session], child_id: int, scope: Scope = Scope.FULL
) -> ErasureReport:
    with sessions.begin() as session:
        if session.get(Child, child_id) is None:
            raise LookupError(f"no child with id {child_id}")
        owner = owner_of_child(session=session, child_id=child_id, settings=settings)
    return erase(settings, sessions, owner, scope)


def forget_chat(
    settings: Settings, sessions: sessionmaker[Session], sender_id: str
) -> ErasureReport:
    """"Vergeet mij" from a chat: the child's words in every one of their chats."""
    with sessions.begin() as session:
        owner = owner_of_chat(session=session, sender_id=sender_id, settings=settings)
    return erase(settings, sessions, owner, Scope.SELF)
