"""The audit log: who viewed, answered, exported or changed what, when, and whether it
was allowed. Portal routes, the command line and the worker all call `record`.

An event never holds child content: the target is a reference ("child:12",
"follow_up:4"), the detail a short technical note. `record` adds to the caller's
session and transaction, so the event is stored with the change it describes; a
refused attempt is recorded in a transaction of its own by the caller."""

from __future__ import annotations

import getpass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import AuditEvent, Caseworker, Child, utcnow

SOURCES = ("portal", "cli", "chat", "worker")


def actor_for(account: Caseworker) -> str:
    return f"caseworker:{account.id}"


def cli_actor() -> str:
    """The operating-system user who ran `python -m bot`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (e.g. a container with a bare uid)
        user = "unknown"
    return f"cli:{user}"[:120]


def record(
    *,
    session: Session,
    action: str,
    actor: str | Caseworker,
    target: str | None = None,
    child_id: int | None = None,
    allowed: bool = True,
    detail: str | None = None,
    source: str = "portal",
    now: datetime | None = None,
) -> AuditEvent:
    """Add one event, e.g. `record(session=s, action="child.view", actor=user,
    target="child:12", child_id=12)`. `actor` is an account or a string such as
    `cli_actor()` or "worker". `action` is a short dotted name: child.view,
    follow_up.answer, summary.read, child.assign, account.create, cli.export..."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    actor_id = None
    if isinstance(actor, Caseworker):
        actor_id = actor.id
        actor = actor_for(actor)
    event = AuditEvent(
        at=now or utcnow(), actor=actor[:120], actor_id=actor_id, action=action[:40],
        target=None if target is None else target[:80], child_id=child_id, allowed=allowed,
        detail=None if detail is None else detail[:300], source=source,
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    *,
    session: Session,
    team: str | None = None,
    child_id: int | None = None,
    refused_only: bool = False,
    limit: int = 200,
) -> list[AuditEvent]:
    """Newest first. With `team`: events by that team's accounts or about its children
    (the team lead's view); without: everything (an admin or the CLI)."""
    query = select(AuditEvent)
    if team is not None:
        members = select(Caseworker.id).where(Caseworker.team == team)
        children = select(Child.id).where(Child.team == team)
        query = query.where(
            AuditEvent.actor_id.in_(members) | AuditEvent.child_id.in_(children)
        )
    if child_id is not None:
        query = query.where(AuditEvent.child_id == child_id)
    if refused_only:
        query = query.where(AuditEvent.allowed.is_(False))
    return list(session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                .limit(limit)))
