"""What the portal shows of a child (bot/portal/shared.py): only the items the child chose
to share, of every kind, oldest first; never a private or undecided one, nor another
child's. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.portal.shared import shared_view
from bot.storage import repo
from bot.storage.models import Answer, Person, TrustedPerson, Wish


def test_only_shared_items_of_this_child(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        child, other = (
            repo.create_child(
                session=session, display_name=name, age=10, age_group="10-13", caseworker=None
            )
            for name in ("Noor", "Sem")
        )
        for owner, prefix in ((child, ""), (other, "other ")):
            for shared in (True, False, None, True):
                label = f"{prefix}{shared}"
                session.add_all([
                    Wish(child=owner, text=f"wish {label}", shared=shared),
                    Person(child_id=owner.id, label=f"person {label}", shared=shared),
                    TrustedPerson(child_id=owner.id, who=f"trusted {label}", shared=shared),
                    Answer(child_id=owner.id, topic="own_say", text=f"answer {label}",
                           shared=shared),
                ])
        session.flush()
        child_id = child.id
    with sessions.begin() as session:
        view = shared_view(session=session, child_id=child_id)
        assert [w.text for w in view.wishes] == ["wish True", "wish True"]
        assert [p.label for p in view.people] == ["person True", "person True"]
        assert [t.who for t in view.trusted] == ["trusted True", "trusted True"]
        assert [a.text for a in view.answers["own_say"]] == ["answer True", "answer True"]
        assert list(view.answers) == ["own_say"]
        ids = [w.id for w in view.wishes]
        assert ids == sorted(ids) and len(set(ids)) == 2
