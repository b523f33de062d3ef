"""A chat linked to one child is never moved to another; a code works once, also when
many chats send it at the same moment (SQLite and PostgreSQL); the encrypted columns
survive the 0007 migration both ways."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot import invites
from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import migrate, repo
from bot.storage.models import Alert, Child, Person, TrustedPerson, utcnow


def _child(sessions: sessionmaker[Session], settings: Settings, code: str, age: int = 16,
           **kw: object) -> int:
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name=None, age=age,
                                  age_group="14-18" if age >= 14 else "10-13", caseworker=None)
        repo.create_invite(session=session, child=child,
                           code_hash=invites.code_hash(settings.pseudonym_secret, code),
                           ttl=kw.get("ttl", timedelta(days=14)),  # type: ignore[arg-type]
                           now=kw.get("now"))  # type: ignore[arg-type]
        return child.id


def _hash(settings: Settings, sender: str) -> str:
    return sender_hash(settings.pseudonym_secret, sender)


def _redeem(sessions: sessionmaker[Session], settings: Settings, code: str, sender: str,
            min_age: int | None = None) -> repo.LinkResult:
    with sessions.begin() as session:
        result = repo.redeem_invite(
            session=session, code_hash=invites.code_hash(settings.pseudonym_secret, code),
            sender_hash=_hash(settings, sender), channel="tg", min_age=min_age)
        return repo.LinkResult(result.status, None, result.age_group)


def _linked_child(sessions: sessionmaker[Session], settings: Settings, sender: str) -> int | None:
    with sessions.begin() as session:
        found = repo.find_conversation(session=session, sender_hash=_hash(settings, sender))
        return found.child_id if found else None


def test_a_second_childs_code_never_moves_a_linked_chat(sessions, settings):
    child_a = _child(sessions, settings, "AAAA-2222")
    _child(sessions, settings, "BBBB-3333")
    assert _redeem(sessions, settings, "AAAA-2222", "tg-x").status is repo.LinkStatus.LINKED
    result = _redeem(sessions, settings, "BBBB-3333", "tg-x")
    assert result.status is repo.LinkStatus.OTHER_CHILD
    assert _linked_child(sessions, settings, "tg-x") == child_a
    # B's code was not used up: B can still link in a fresh session.
    assert _redeem(sessions, settings, "BBBB-3333", "tg-y").status is repo.LinkStatus.LINKED


def test_plan_link_sends_another_childs_code_to_a_fresh_session(sessions, settings):
    child_a = _child(sessions, settings, "AAAA-2222")
    _child(sessions, settings, "BBBB-3333")
    _child(sessions, settings, "CCCC-4444", ttl=timedelta(days=14),
           now=utcnow() - timedelta(days=20))
    code = lambda c: invites.code_hash(settings.pseudonym_secret, c)  # noqa: E731
    first, second = _hash(settings, "tg-gen0"), _hash(settings, "tg-gen1")
    with sessions.begin() as session:
        # Not linked yet: link here.
        assert repo.plan_link(session=session, code_hash=code("AAAA-2222"),
                              sender_hashes=[first]).index == 0
    _redeem(sessions, settings, "AAAA-2222", "tg-gen0")
    with sessions.begin() as session:
        assert repo.plan_link(session=session, code_hash=code("BBBB-3333"),
                              sender_hashes=[first]).fresh
        # An unknown or expired code stays in this session (and fails there).
        assert repo.plan_link(session=session, code_hash=code("ZZZZ-9999"),
                              sender_hashes=[first]).index == 0
        assert repo.plan_link(session=session, code_hash=code("CCCC-4444"),
                              sender_hashes=[first]).index == 0
    _redeem(sessions, settings, "BBBB-3333", "tg-gen1")
    with sessions.begin() as session:
        # In B's session, A's own code goes back to A's conversation.
        plan = repo.plan_link(session=session, code_hash=code("AAAA-2222"),
                              sender_hashes=[second, first])
        assert plan.index == 1
    assert _linked_child(sessions, settings, "tg-gen0") == child_a


def test_telegram_below_the_minimum_age_is_refused_without_using_the_code(sessions, settings):
    _child(sessions, settings, "YNGR-5555", age=15)
    result = _redeem(sessions, settings, "YNGR-5555", "tg-young", min_age=16)
    assert result.status is repo.LinkStatus.TOO_YOUNG and result.age_group == "14-18"
    with sessions.begin() as session:
        plan = repo.plan_link(session=session,
                              code_hash=invites.code_hash(settings.pseudonym_secret, "YNGR-5555"),
                              sender_hashes=[_hash(settings, "tg-young")], min_age=16)
        assert plan.too_young and plan.age_group == "14-18"
    # The code still works in the web chat (no minimum age).
    assert _redeem(sessions, settings, "YNGR-5555", "web-z").status is repo.LinkStatus.LINKED
    # Unknown age: refused too (fail closed).
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name=None, age=None, age_group=None,
                                  caseworker=None)
        repo.create_invite(session=session, child=child,
                           code_hash=invites.code_hash(settings.pseudonym_secret, "NAGE-6666"),
                           ttl=timedelta(days=1))
    assert _redeem(sessions, settings, "NAGE-6666", "tg-q", min_age=16).status \
        is repo.LinkStatus.TOO_YOUNG
    _child(sessions, settings, "OLDR-7777", age=16)
    assert _redeem(sessions, settings, "OLDR-7777", "tg-o", min_age=16).status \
        is repo.LinkStatus.LINKED


def test_generations_of_a_chat(sessions):
    with sessions.begin() as session:
        assert repo.current_generation(session=session, chat_hash="k") == 0
        assert repo.generations(session=session, chat_hash="k") == [0]
        assert repo.next_generation(session=session, chat_hash="k") == 1
        assert repo.next_generation(session=session, chat_hash="k") == 2
        repo.set_generation(session=session, chat_hash="k", generation=0)
        assert repo.generations(session=session, chat_hash="k") == [0, 2, 1]
        # A fresh session is always new, never an old one reused.
        assert repo.next_generation(session=session, chat_hash="k") == 3


def test_a_code_works_once_under_concurrency(engine: Engine, sessions, settings):
    """Many chats send the same code at the same moment: exactly one is linked."""
    _child(sessions, settings, "RACE-2345")
    chats = 8
    barrier = threading.Barrier(chats)
    results: list[repo.LinkStatus] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        try:
            with sessions.begin() as session:
                invite_hash = invites.code_hash(settings.pseudonym_secret, "RACE-2345")
                # Everyone reads the unused invite before anyone writes.
                session.execute(text("SELECT 1"))
                barrier.wait(timeout=30)
                result = repo.redeem_invite(session=session, code_hash=invite_hash,
                                            sender_hash=_hash(settings, f"race-{index}"),
                                            channel="rest")
                status = result.status
            with lock:
                results.append(status)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(chats)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # SQLite serialises writers: a loser may also fail with "database is locked" after
    # the busy timeout; it must never be linked as well.
    assert len(results) + len(errors) == chats
    assert results.count(repo.LinkStatus.LINKED) == 1, (results, errors)
    assert all(s in (repo.LinkStatus.LINKED, repo.LinkStatus.USED) for s in results)
    with sessions.begin() as session:
        linked = session.execute(text("SELECT count(*) FROM conversation_session")).scalar()
    assert linked == 1


def test_sensitive_columns_are_encrypted_and_survive_0007_both_ways(engine: Engine, sessions,
                                                                    settings):
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name="Noor", age=15,
                                  age_group="14-18", caseworker=None)
        session.add(Person(child_id=child.id, label="oma", role="oma", ring=1,
                           frequency="weekly", contact_wish="more"))
        session.add(TrustedPerson(child_id=child.id, has_someone=True, who="juf",
                                  person_knows=False, wants_help=None))
        session.add(Alert(child_id=child.id, sender_hash="h", channel="tg",
                          category="sexual_abuse"))
        child_id = child.id
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT role, ring, frequency, contact_wish FROM person")).one()
        raw_trusted = conn.execute(
            text("SELECT has_someone, person_knows, wants_help FROM trusted_person")).one()
        raw_alert = conn.execute(text("SELECT category FROM alert")).scalar()
        raw_age = conn.execute(text("SELECT age FROM child")).scalar()
    for value in (*raw, *raw_trusted[:2], raw_alert, raw_age):
        assert isinstance(value, str) and value.startswith("gAAAA"), value
    assert raw_trusted[2] is None

    migrate.downgrade(engine, "0006")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT role, ring, frequency, contact_wish FROM person")
                            ).one() == ("oma", 1, "weekly", "more")
        assert tuple(conn.execute(
            text("SELECT has_someone, person_knows, wants_help FROM trusted_person")).one()
        ) in ((True, False, None), (1, 0, None))
        assert conn.execute(text("SELECT category FROM alert")).scalar() == "sexual_abuse"
        assert conn.execute(text("SELECT age FROM child")).scalar() == 15
    migrate.upgrade(engine)
    with sessions.begin() as session:
        child = session.get(Child, child_id)
        assert child is not None and child.age == 15
        person = session.query(Person).one()
        assert (person.role, person.ring, person.frequency, person.contact_wish) == (
            "oma", 1, "weekly", "more")
        trusted = session.query(TrustedPerson).one()
        assert (trusted.has_someone, trusted.person_knows, trusted.wants_help) == (
            True, False, None)
        assert session.query(Alert).one().category == "sexual_abuse"
