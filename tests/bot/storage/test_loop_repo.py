"""The answer loop's storage (bot/storage/loop.py, bot/accounts.py, bot/audit.py) on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, inspect, text

from bot import accounts, audit
from bot.pseudonym import sender_hash
from bot.storage import interview, loop, migrate, repo
from bot.storage.models import Notice

# Monday 7 December 2026, 10:00 Dutch time.
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def _setup(sessions, *, with_caseworker: bool = True):
    with sessions.begin() as session:
        lead = accounts.create(session=session, email="lead@example.org", name="Mila Bos",
                               role="teamlead", team="Noord")
        worker = accounts.create(session=session, email="sanne@example.org",
                                 name="Sanne de Vries", team="Noord")
        child = repo.create_child(session=session, display_name="Noor", age=12,
                                  age_group="10-13",
                                  caseworker=worker if with_caseworker else None)
        child.team = "Noord"
        return child.id, worker.id, lead.id


def _share_wish(sessions, child_id: int, text_: str = "een hond", now=MONDAY):
    with sessions.begin() as session:
        wish = repo.add_wish(session=session, child_id=child_id, session_id=None, text=text_,
                             topic="hobby")
        interview.add_answer(session=session, child_id=child_id, session_id=None,
                             topic="message", text="ik mis mijn moeder")
        refs = [item.ref for item in interview.current_items(session=session,
                                                                child_id=child_id)]
        interview.decide(session=session, child_id=child_id, refs=refs, shared=True)
        child = repo.get_child(session=session, child_id=child_id)
        items = interview.items_to_send(session=session, child_id=child_id)
        summary = interview.send_shared(session=session, child=child, items=items, body="x")
        follow_ups = loop.open_follow_ups_for_summary(session=session, child=child,
                                                      summary=summary, now=now)
        return wish.id, [f.id for f in follow_ups]


def test_shared_wish_and_message_get_follow_ups_with_working_day_deadlines(sessions):
    child_id, worker_id, _ = _setup(sessions)
    wish_id, follow_up_ids = _share_wish(sessions, child_id)
    with sessions.begin() as session:
        follow_ups = loop.follow_ups_for_child(session=session, child_id=child_id)
        assert [f.id for f in follow_ups] == follow_up_ids
        assert [f.kind for f in follow_ups] == ["wish", "message"]
        first = follow_ups[0]
        assert first.wish_id == wish_id and first.status == "nieuw"
        # 2 working days after Monday: end of Wednesday; 10: end of Monday 21 Dec.
        assert first.open_due == datetime(2026, 12, 9, 22, 59, 59, tzinfo=timezone.utc)
        assert first.answer_due == datetime(2026, 12, 21, 22, 59, 59, tzinfo=timezone.utc)
        assert loop.item_text(first) == "een hond"
        notices = session.query(Notice).all()
        assert [(n.kind, n.caseworker_id) for n in notices] == [("new_summary", worker_id)]
        # Sharing the same summary's items again creates nothing new.
        summary_child = repo.get_child(session=session, child_id=child_id)
        summary = repo.list_shared_summaries(session=session)[0]
        assert loop.open_follow_ups_for_summary(session=session, child=summary_child,
                                                summary=summary) == []


def test_reply_rules_delivery_and_reaction(sessions, settings):
    child_id, worker_id, _ = _setup(sessions)
    _share_wish(sessions, child_id)
    with sessions.begin() as session:
        worker = accounts.get(session=session, account_id=worker_id)
        follow_up = loop.follow_ups_for_child(session=session, child_id=child_id)[0]
        with pytest.raises(loop.LoopError):
            loop.add_reply(session=session, follow_up=follow_up, by=worker, status="kan_niet",
                           text="  ")
        with pytest.raises(loop.LoopError):
            loop.add_reply(session=session, follow_up=follow_up, by=worker, status="nieuw",
                           text="x")
        reply = loop.add_reply(session=session, follow_up=follow_up, by=worker,
                               status="mee_bezig", text="Ik vraag het aan je pleegouders.",
                               now=MONDAY + timedelta(hours=1))
        assert reply.signed_as == "Sanne"
        assert follow_up.status == "mee_bezig" and follow_up.opened_at is not None
        assert follow_up.answered_at == MONDAY + timedelta(hours=1)
        # a linked chat
        child = repo.get_child(session=session, child_id=child_id)
        chat = sender_hash(settings.pseudonym_secret, "web-abc")
        from bot.storage.models import ConversationSession
        conversation = ConversationSession(child_id=child.id, sender_hash=chat, channel="rest")
        session.add(conversation)
        session.flush()
        assert loop.has_pending_for_sender(session=session, sender_hash=chat)
        assert loop.sessions_with_pending(session=session, channel="telegram") == []
        pending = loop.pending_replies(session=session, child_id=child_id)
        assert [r.id for r in pending] == [reply.id]
        loop.mark_delivered(session=session, replies=pending)
        assert not loop.has_pending_for_sender(session=session, sender_hash=chat)
        assert loop.last_delivered_reply(session=session, child_id=child_id).id == reply.id
        reaction = loop.add_reaction(session=session, child=child, reaction="disagree",
                                     reply_id=reply.id)
        assert reaction.reply_id == reply.id
        with pytest.raises(loop.LoopError):
            loop.add_reaction(session=session, child=child, reaction="own_words",
                              reply_id=reply.id, text="")
        assert loop.unread_counts(session=session, child_ids=[child_id]) == {child_id: (1, 1)}
        assert loop.mark_messages_read(session=session, child_id=child_id, by=worker) == 1


def test_child_message_without_caseworker_goes_to_the_team_inbox(sessions, engine: Engine):
    child_id, worker_id, lead_id = _setup(sessions, with_caseworker=False)
    with sessions.begin() as session:
        child = repo.get_child(session=session, child_id=child_id)
        message = loop.add_child_message(session=session, child=child,
                                         text="Mag ik naar oma?", now=MONDAY)
        assert [c.id for c in loop.team_inbox(session=session, team="Noord")] == [child_id]
        notice = session.query(Notice).one()
        assert (notice.kind, notice.caseworker_id) == ("new_message", lead_id)
        follow_up = loop.follow_ups_for_child(session=session, child_id=child_id)[0]
        assert follow_up.message_id == message.id and follow_up.kind == "message"
        lead = accounts.get(session=session, account_id=lead_id)
        worker = accounts.get(session=session, account_id=worker_id)
        loop.assign_child(session=session, child=child, caseworker=worker, by=lead,
                          now=MONDAY)
        other = accounts.create(session=session, email="kees@example.org", name="Kees",
                                team="Noord")
        loop.assign_child(session=session, child=child, caseworker=other, by=lead,
                          now=MONDAY + timedelta(days=1))
        history = loop.assignment_history(session=session, child_id=child_id)
        assert [(h.caseworker_id, h.ended_at is None) for h in history] == [
            (worker_id, False), (other.id, True)]
        assert loop.team_inbox(session=session, team="Noord") == []
        assert [c.id for c in loop.children_of(session=session, caseworker=other)] == [child_id]
        assert [c.id for c in loop.team_children(session=session, team="Noord")] == [child_id]
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT text FROM child_message")).scalar_one()
    assert "oma" not in raw


def test_overdue(sessions):
    child_id, _, _ = _setup(sessions)
    _share_wish(sessions, child_id)
    with sessions.begin() as session:
        follow_up = loop.follow_ups_for_child(session=session, child_id=child_id)[0]
        assert not loop.is_open_overdue(follow_up, MONDAY + timedelta(days=2))
        assert loop.is_open_overdue(follow_up, MONDAY + timedelta(days=3))
        assert loop.overdue_follow_ups(session=session, now=MONDAY + timedelta(days=14)) == []
        late = loop.overdue_follow_ups(session=session, now=MONDAY + timedelta(days=15))
        assert len(late) == 2


def test_accounts_password_and_lock_out(sessions):
    with sessions.begin() as session:
        account = accounts.create(session=session, email="Sanne@Example.org", name="Sanne")
        with pytest.raises(accounts.AccountError):
            accounts.create(session=session, email="x@example.org", name="X", role="boss")
        with pytest.raises(accounts.AccountError):
            accounts.set_password(session=session, account=account, password="kort")
        accounts.set_password(session=session, account=account,
                              password="paard-batterij-nietje")
        assert account.password_hash.startswith("$argon2id$")
    with sessions.begin() as session:
        ok = accounts.verify_login(session=session, email="sanne@example.org ",
                                   password="paard-batterij-nietje", now=MONDAY)
        assert ok.ok and ok.account is not None
        assert accounts.verify_login(session=session, email="nobody@example.org",
                                     password="x", now=MONDAY).reason == "unknown"
        reasons = [accounts.verify_login(session=session, email="sanne@example.org",
                                         password="fout", now=MONDAY).reason
                   for _ in range(5)]
        assert reasons == ["wrong"] * 4 + ["locked"]
        locked = accounts.verify_login(session=session, email="sanne@example.org",
                                       password="paard-batterij-nietje",
                                       now=MONDAY + timedelta(minutes=5))
        assert locked.reason == "locked" and not locked.ok
        later = accounts.verify_login(session=session, email="sanne@example.org",
                                      password="paard-batterij-nietje",
                                      now=MONDAY + timedelta(minutes=16))
        assert later.ok


def test_audit_record_and_team_view(sessions):
    child_id, worker_id, _ = _setup(sessions)
    with sessions.begin() as session:
        worker = accounts.get(session=session, account_id=worker_id)
        audit.record(session=session, action="child.view", actor=worker,
                     target=f"child:{child_id}", child_id=child_id)
        audit.record(session=session, action="cli.export", actor=audit.cli_actor(),
                     source="cli", target="child:99", child_id=99, allowed=False)
        with pytest.raises(ValueError):
            audit.record(session=session, action="x", actor="y", source="nowhere")
    with sessions.begin() as session:
        team = audit.list_events(session=session, team="Noord")
        assert [e.action for e in team] == ["child.view"]
        assert team[0].actor == f"caseworker:{worker_id}"
        refused = audit.list_events(session=session, refused_only=True)
        assert [(e.action, e.source) for e in refused] == [("cli.export", "cli")]


def test_migration_0009_downgrades_and_keeps_the_children(engine: Engine, sessions):
    child_id, _, _ = _setup(sessions)
    _share_wish(sessions, child_id)
    migrate.downgrade(engine, "0010")
    with engine.connect() as conn:
        # Dropping columns must not rebuild `child` (a rebuild cascades on SQLite).
        assert conn.execute(text("SELECT count(*) FROM child")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM wish")).scalar_one() == 1
    tables = set(inspect(engine).get_table_names())
    assert "follow_up" not in tables and "audit_event" not in tables
    assert "role" not in {c["name"] for c in inspect(engine).get_columns("caseworker")}
    migrate.upgrade(engine)
    assert {"follow_up", "follow_up_reply", "child_message", "child_assignment", "notice",
            "audit_event"} <= set(inspect(engine).get_table_names())
