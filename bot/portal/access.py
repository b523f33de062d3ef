"""Who may see which child, enforced on the server for every portal route.

- a caseworker: only the children assigned to them;
- a team lead: the children of their team, and the team inbox (children without a
  caseworker) of their team;
- an admin: manages accounts and sees no child content at all.

A refused attempt is written to the audit log in its own transaction, so it is kept
even though the request fails."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot import audit
from bot.storage import loop
from bot.storage.models import Caseworker, Child

CHILD_ROLES = ("caseworker", "teamlead")
TEAM_ROLES = ("teamlead",)
ADMIN_ROLES = ("admin",)


class Refused(Exception):
    """The signed-in account may not do this."""

    def __init__(self, action: str, target: str | None, child_id: int | None = None) -> None:
        super().__init__(action)
        self.action = action
        self.target = target
        self.child_id = child_id


def visible_children(*, session: Session, account: Caseworker) -> list[Child]:
    if account.role == "caseworker":
        return loop.children_of(session=session, caseworker=account)
    if account.role == "teamlead":
        seen: dict[int, Child] = {}
        for child in loop.team_children(session=session, team=account.team) + loop.team_inbox(
            session=session, team=account.team
        ):
            seen.setdefault(child.id, child)
        return sorted(seen.values(), key=lambda c: (c.closed_at is not None, c.id))
    return []


def may_see_child(*, session: Session, account: Caseworker, child: Child) -> bool:
    if not account.active:
        return False
    if account.role == "caseworker":
        return child.caseworker_id == account.id
    if account.role == "teamlead":
        return any(c.id == child.id for c in visible_children(session=session, account=account))
    return False


def get_child_for(*, session: Session, account: Caseworker, child_id: int, action: str) -> Child:
    """The child, if this account may see it; otherwise Refused (also for an unknown id,
    so that ids cannot be probed)."""
    child = session.get(Child, child_id)
    if child is None or not may_see_child(session=session, account=account, child=child):
        raise Refused(action, f"child:{child_id}", child_id if child is not None else None)
    return child


def record_refusal(
    factory: sessionmaker[Session], account_id: int | None, exc: Refused, detail: str | None = None
) -> None:
    with factory.begin() as session:
        event = audit.record(
            session=session,
            action=exc.action,
            actor=f"caseworker:{account_id}" if account_id is not None else "anonymous",
            target=exc.target,
            child_id=exc.child_id,
            allowed=False,
            detail=detail,
        )
        event.actor_id = account_id
