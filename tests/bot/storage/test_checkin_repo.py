"""Check-ins and shared feelings in storage (issue 11): due dates, the Telegram
invitation claimed once, and the 0011 revision's downgrade (SQLite and PostgreSQL via
the shared `engine` fixture)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, inspect, text

from bot.storage import loop, migrate, repo
from bot.storage.models import ConversationSession

DAY = date(2026, 12, 14)


def _child(sessions, *, linked_tg: bool = True) -> int:
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name="Tess", age=16,
                                  age_group="14-18", caseworker=None)
        if linked_tg:
            session.add(ConversationSession(child_id=child.id, sender_hash="h-tess",
                                            channel="tg", chat_address="4242"))
        session.flush()
        return child.id


def test_due_on_or_after_the_day_until_done(sessions):
    child_id = _child(sessions)
    with sessions.begin() as session:
        child = repo.get_child(session=session, child_id=child_id)
        checkin = loop.plan_checkin(session=session, child=child, due_on=DAY, about="evaluatie")
        checkin_id = checkin.id
    with sessions.begin() as session:
        assert loop.due_checkin(session=session, child_id=child_id,
                                today=date(2026, 12, 13)) is None
        assert loop.due_checkin(session=session, child_id=child_id, today=DAY).id == checkin_id
        assert loop.due_checkin(session=session, child_id=child_id,
                                today=date(2026, 12, 20)).id == checkin_id
        loop.finish_checkin(session=session, checkin_id=checkin_id)
    with sessions.begin() as session:
        assert loop.due_checkin(session=session, child_id=child_id,
                                today=date(2026, 12, 20)) is None


def test_invitation_is_claimed_once_and_only_for_reachable_chats(sessions):
    reachable = _child(sessions)
    unlinked = _child(sessions, linked_tg=False)
    with sessions.begin() as session:
        for child_id in (reachable, unlinked):
            loop.plan_checkin(session=session, child=repo.get_child(session=session,
                                                                    child_id=child_id),
                              due_on=DAY)
    with sessions.begin() as session:
        assert loop.checkins_to_invite(session=session, channel="tg",
                                       today=date(2026, 12, 13)) == []
        (found,) = loop.checkins_to_invite(session=session, channel="tg", today=DAY)
        checkin, conversation = found
        assert (checkin.child_id, conversation.chat_address) == (reachable, "4242")
        assert loop.mark_invited(session=session, checkin_id=checkin.id)
        assert not loop.mark_invited(session=session, checkin_id=checkin.id)
    with sessions.begin() as session:
        assert loop.checkins_to_invite(session=session, channel="tg", today=DAY) == []


def test_an_invitation_given_back_can_be_claimed_again_but_not_once_done(sessions):
    child_id = _child(sessions)
    with sessions.begin() as session:
        checkin_id = loop.plan_checkin(
            session=session, child=repo.get_child(session=session, child_id=child_id),
            due_on=DAY).id
        assert loop.mark_invited(session=session, checkin_id=checkin_id)
        loop.unmark_invited(session=session, checkin_id=checkin_id)
        (found,) = loop.checkins_to_invite(session=session, channel="tg", today=DAY)
        assert found[0].id == checkin_id
        assert loop.mark_invited(session=session, checkin_id=checkin_id)
        loop.finish_checkin(session=session, checkin_id=checkin_id)
        # Done meanwhile (the child started it from the web chat): it stays claimed.
        loop.unmark_invited(session=session, checkin_id=checkin_id)
        session.expire_all()
        assert loop.checkins_to_invite(session=session, channel="tg", today=DAY) == []
        assert not loop.mark_invited(session=session, checkin_id=checkin_id)


def test_a_feeling_needs_no_words_but_a_message_does(sessions):
    child_id = _child(sessions)
    with sessions.begin() as session:
        child = repo.get_child(session=session, child_id=child_id)
        message = loop.add_child_message(session=session, child=child, text=None,
                                         kind="feeling", feeling="moe")
        assert (message.kind, message.feeling, message.text) == ("feeling", "moe", None)
        try:
            loop.add_child_message(session=session, child=child, text="  ")
        except loop.LoopError:
            pass
        else:
            raise AssertionError("an empty message was stored")


def test_revision_0011_downgrades_and_keeps_the_messages(engine: Engine, sessions):
    child_id = _child(sessions)
    with sessions.begin() as session:
        child = repo.get_child(session=session, child_id=child_id)
        loop.add_child_message(session=session, child=child, text="hoi")
        loop.plan_checkin(session=session, child=child, due_on=DAY)
    migrate.downgrade(engine, "0008")
    assert "checkin" not in set(inspect(engine).get_table_names())
    columns = {c["name"] for c in inspect(engine).get_columns("child_message")}
    assert not {"feeling", "checkin_id", "part"} & columns
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM child_message")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM child")).scalar_one() == 1
    migrate.upgrade(engine)
    assert "checkin" in set(inspect(engine).get_table_names())
