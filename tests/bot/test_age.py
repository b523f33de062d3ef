"""The age band follows the child's birthday (birth month and year are stored)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text

from bot.age import age_on, born_from_age, current_age_group, parse_born
from bot.storage import repo
from bot.storage.db import make_session_factory


def test_age_follows_the_birth_month():
    assert age_on("2017-05", date(2026, 4, 30)) == 8
    assert age_on("2017-05", date(2026, 5, 1)) == 9
    assert age_on("2016-05", date(2026, 5, 1)) == 10


def test_band_changes_on_the_birthday():
    before = current_age_group(born="2016-12", stored="6-9", today=date(2026, 11, 30))
    after = current_age_group(born="2016-12", stored="6-9", today=date(2026, 12, 1))
    assert (before, after) == ("6-9", "10-13")
    # Past 18 a case may stay open: the nearest band, never an error.
    assert current_age_group(born="2000-01", stored=None, today=date(2026, 1, 1)) == "14-18"
    # No birth month known (an old invite): the stored band.
    assert current_age_group(born=None, stored="10-13") == "10-13"


def test_age_at_invite_time_gives_a_birth_month():
    born = born_from_age(8, date(2026, 12, 3))
    assert born == "2018-12"
    assert age_on(born, date(2027, 11, 30)) == 8
    assert age_on(born, date(2027, 12, 1)) == 9


@pytest.mark.parametrize("bad", ["2018", "2018-13", "18-03", "maart 2018"])
def test_bad_birth_months_are_refused(bad: str):
    with pytest.raises(ValueError):
        parse_born(bad)


def test_birth_month_is_stored_encrypted(sqlite_engine: Engine):
    sessions = make_session_factory(sqlite_engine)
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name="Noor", age=None,
                                  age_group=None, caseworker=None, born="2017-03")
        child_id = child.id
    with sqlite_engine.connect() as conn:
        raw = conn.execute(text("select born from child where id = :i"), {"i": child_id}).scalar()
    assert raw and "2017" not in raw
    with sessions.begin() as session:
        child = repo.get_child(session=session, child_id=child_id)
        assert child.born == "2017-03"
        assert child.current_age_group == current_age_group(born="2017-03", stored=None)


def test_invite_with_an_age_stores_a_birth_month(sqlite_engine: Engine):
    sessions = make_session_factory(sqlite_engine)
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name=None, age=11,
                                  age_group="10-13", caseworker=None)
        assert child.born == born_from_age(11)
        assert child.current_age_group == "10-13"
