"""The team lead's anonymous figures (bot/loop/figures.py): counts below 5 hidden."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot import accounts
from bot.loop.figures import team_figures
from bot.storage import interview, loop, repo
from bot.storage.db import make_session_factory
from bot.storage.models import ConversationSession

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def _child(session, sanne, n: int, *, topic: str, sibling_more: bool, answer_after: int | None):
    child = repo.create_child(session=session, display_name=f"K{n}", age=12,
                              age_group="10-13", caseworker=sanne)
    child.team = "Noord"
    session.add(ConversationSession(child_id=child.id, sender_hash=f"h{n}", channel="rest",
                                    last_seen_at=MONDAY))
    repo.add_wish(session=session, child_id=child.id, session_id=None, text="x", topic=topic)
    person = interview.add_person(session=session, child_id=child.id, session_id=None,
                                  label="broertje", name=None, role="broer")
    interview.update_person(session=session, child_id=child.id, person_id=person.id,
                            contact_wish="more" if sibling_more else "same")
    refs = [i.ref for i in interview.current_items(session=session, child_id=child.id)]
    interview.decide(session=session, child_id=child.id, refs=refs, shared=True)
    summary = interview.send_shared(
        session=session, child=child,
        items=interview.items_to_send(session=session, child_id=child.id), body="x")
    (follow_up,) = loop.open_follow_ups_for_summary(session=session, child=child,
                                                    summary=summary, now=MONDAY)
    if answer_after is not None:
        loop.add_reply(session=session, follow_up=follow_up, by=sanne, status="gedaan",
                       text="ok", now=MONDAY + timedelta(days=answer_after))


def test_team_figures_hide_small_counts(sqlite_engine):
    sessions = make_session_factory(sqlite_engine)
    with sessions.begin() as session:
        sanne = accounts.create(session=session, email="s@example.org", name="Sanne",
                                team="Noord")
        # 6 children: 5 wishes about school, 1 about a hobby; answers after 1, 2, 3, 4
        # and 30 days (the last one late), one not answered.
        for n, after in enumerate([1, 2, 3, 4, 30, None]):
            _child(session, sanne, n, topic="hobby" if n == 5 else "school",
                   sibling_more=n < 5, answer_after=after)
    with sessions.begin() as session:
        figures = team_figures(session=session, team="Noord", now=MONDAY + timedelta(days=40))
        assert figures.active_children == 6
        assert figures.wishes_by_topic == {"hobby": None, "school": 5}
        assert figures.more_contact_siblings == 5
        assert figures.more_contact_parents is None  # 0: below 5, hidden
        # 6 settled (5 answered, 1 overdue), 4 in time.
        assert figures.answered_in_time_base == 6
        assert figures.answered_in_time == 4 / 6
        assert figures.median_days_to_first_answer == 3.0
        # Another team sees nothing of these children.
        other = team_figures(session=session, team="Zuid", now=MONDAY)
        assert other.active_children is None and other.wishes_by_topic == {}
        # Few answers: no share and no median.
        early = team_figures(session=session, team="Noord", now=MONDAY + timedelta(days=3))
        assert early.answered_in_time is None and early.median_days_to_first_answer is None
