"""The interview's storage (bot/storage/interview.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from bot.storage import interview, migrate, repo
from bot.storage.models import Person


def _child(sessions) -> tuple[int, int]:
    with sessions.begin() as session:
        caseworker = repo.add_caseworker(session=session, email="kim@example.org", name="Kim")
        child = repo.create_child(session=session, display_name=None, age=12,
                                  age_group="10-13", caseworker=caseworker)
        return child.id, caseworker.id


def test_items_choices_and_the_outbox(sessions, engine: Engine):
    child_id, caseworker_id = _child(sessions)
    with sessions.begin() as session:
        repo.add_wish(session=session, child_id=child_id, session_id=None, text="een hond",
                      topic="hobby")
        oma = interview.add_person(session=session, child_id=child_id, session_id=None,
                                   label="oma", name=None, role="oma")
        interview.update_person(session=session, child_id=child_id, person_id=oma.id, ring=1,
                                frequency="weekly", contact_wish="more")
        interview.add_trusted_person(session=session, child_id=child_id, session_id=None,
                                     has_someone=True, who="juf Sanne", person_knows=False,
                                     wants_help=None)
        interview.add_answer(session=session, child_id=child_id, session_id=None,
                             topic="message", text="ik mis mijn moeder")
        items = interview.current_items(session=session, child_id=child_id)
        refs = [item.ref for item in items]
        assert [r.split(":")[0] for r in refs] == ["wish", "person", "trusted", "answer"]
        interview.decide(session=session, child_id=child_id, refs=refs[:2], shared=True)
        interview.decide(session=session, child_id=child_id, refs=refs[2:], shared=False)
        to_send = interview.items_to_send(session=session, child_id=child_id)
        assert [i.ref for i in to_send] == refs[:2]
        child = repo.get_child(session=session, child_id=child_id)
        summary = interview.send_shared(session=session, child=child, items=to_send, body="x")
        assert summary.caseworker_id == caseworker_id
        assert interview.items_to_send(session=session, child_id=child_id) == []
        assert interview.current_items(session=session, child_id=child_id,
                                       undecided_only=True) == []
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT label FROM person")).scalar_one()
        who = conn.execute(text("SELECT who FROM trusted_person")).scalar_one()
    assert "oma" not in raw and "Sanne" not in who  # encrypted at rest


def test_a_redone_topic_is_kept_but_not_current(sessions):
    child_id, _ = _child(sessions)
    with sessions.begin() as session:
        interview.add_answer(session=session, child_id=child_id, session_id=None,
                             topic="keep_same", text="mijn school")
        interview.add_answer(session=session, child_id=child_id, session_id=None,
                             topic="message", text="hoi Kim")
        assert interview.replace_step(session=session, child_id=child_id,
                                      step="continuity") == 1
        current = interview.current_items(session=session, child_id=child_id)
        assert [i.row.text for i in current] == ["hoi Kim"]


def test_bad_values_and_other_childrens_rows_are_refused(sessions):
    child_id, _ = _child(sessions)
    with sessions.begin() as session:
        other = repo.create_child(session=session, display_name=None, age=9, age_group="6-9",
                                  caseworker=None)
        other_id = other.id
        person = interview.add_person(session=session, child_id=child_id, session_id=None,
                                      label="opa", name=None, role="opa")
        person_id = person.id
    with sessions.begin() as session, pytest.raises(ValueError):
        interview.update_person(session=session, child_id=child_id, person_id=person_id, ring=4)
    with sessions.begin() as session, pytest.raises(LookupError):
        interview.update_person(session=session, child_id=other_id, person_id=person_id, ring=1)
    with sessions.begin() as session, pytest.raises(LookupError):
        interview.decide(session=session, child_id=other_id, refs=[f"person:{person_id}"],
                         shared=True)
    with sessions.begin() as session, pytest.raises(ValueError):
        interview.add_answer(session=session, child_id=child_id, session_id=None,
                             topic="secret", text="x")


def test_deleting_a_child_deletes_its_answers(sessions, engine: Engine):
    child_id, _ = _child(sessions)
    with sessions.begin() as session:
        interview.add_person(session=session, child_id=child_id, session_id=None, label="oma",
                             name=None, role="oma")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM child WHERE id = :id"), {"id": child_id})
    with sessions.begin() as session:
        assert session.query(Person).count() == 0


def test_the_interview_revision_downgrades(engine: Engine):
    before = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0005")
    migrate.downgrade(engine, str(before.down_revision))
    tables = set(inspect(engine).get_table_names())
    assert not {"person", "trusted_person", "interview_answer"} & tables
    assert "shared" not in {c["name"] for c in inspect(engine).get_columns("wish")}
    migrate.upgrade(engine)
    assert {"person", "trusted_person", "interview_answer"} <= set(
        inspect(engine).get_table_names())
