"""Accounts and a child with shared and private items, for the portal's tests. Uses the
real repository functions (bot/accounts.py, bot/storage), no shortcuts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.storage import interview, loop, repo
from bot.storage.models import Child

PASSWORD = "correct horse battery"
SHARED_WISH = "Ik wil vaker bij mijn oma logeren"
PRIVATE_WISH = "Dit is geheim en alleen voor mij"
SCRIPT_WISH = "<script>alert('x')</script><b>vet</b> & meer"


@dataclass(frozen=True)
class Seeded:
    sanne: int  # caseworker of child A
    piet: int  # another caseworker, same team
    lead: int  # team lead
    admin: int
    child_a: int
    child_b: int  # Piet's child
    wish_follow_up: int


def account(session: Session, email: str, name: str, role: str, team: str | None) -> int:
    created = accounts.create(session=session, email=email, name=name, role=role, team=team)
    accounts.set_password(session=session, account=created, password=PASSWORD)
    return created.id


def child_with_items(
    session: Session,
    *,
    caseworker_id: int,
    name: str,
    wishes: list[tuple[str, bool]],
    age: int = 12,
    people: list[tuple[str, str, int, str]] | None = None,
) -> tuple[Child, list[int]]:
    """A child whose wishes were shared (True) or kept private (False), sent as one
    summary, with follow-ups opened as the interview does. Returns the child and the
    follow-up ids."""
    caseworker = accounts.get(session=session, account_id=caseworker_id)
    child = repo.create_child(
        session=session, display_name=name, age=age, age_group="10-13", caseworker=caseworker
    )
    for text, shared in wishes:
        wish = repo.add_wish(
            session=session, child_id=child.id, session_id=None, text=text, topic="wonen"
        )
        interview.decide(
            session=session, child_id=child.id, refs=[f"wish:{wish.id}"], shared=shared
        )
    for label, role, ring, contact in people or []:
        person = interview.add_person(
            session=session, child_id=child.id, session_id=None, label=label, name=None, role=role
        )
        interview.update_person(
            session=session, child_id=child.id, person_id=person.id, ring=ring, contact_wish=contact
        )
        interview.decide(
            session=session, child_id=child.id, refs=[f"person:{person.id}"], shared=True
        )
    items = interview.items_to_send(session=session, child_id=child.id)
    summary = interview.send_shared(session=session, child=child, items=items, body="samenvatting")
    follow_ups = loop.open_follow_ups_for_summary(session=session, child=child, summary=summary)
    return child, [f.id for f in follow_ups]


def seed(factory: sessionmaker[Session]) -> Seeded:
    with factory.begin() as session:
        sanne = account(session, "sanne@example.org", "Sanne de Vries", "caseworker", "Noord")
        piet = account(session, "piet@example.org", "Piet Jansen", "caseworker", "Noord")
        lead = account(session, "lead@example.org", "Lotte Leider", "teamlead", "Noord")
        admin = account(session, "admin@example.org", "Ada Beheer", "admin", None)
        child_a, follow_ups = child_with_items(
            session,
            caseworker_id=sanne,
            name="Lisa",
            wishes=[(SHARED_WISH, True), (PRIVATE_WISH, False), (SCRIPT_WISH, True)],
            people=[("oma Truus", "oma", 1, "more"), ("<b>juf</b> $x$", "juf", 2, "less")],
        )
        child_b, _ = child_with_items(
            session, caseworker_id=piet, name="Tim", wishes=[("Een hond", True)]
        )
        return Seeded(sanne, piet, lead, admin, child_a.id, child_b.id, follow_ups[0])
