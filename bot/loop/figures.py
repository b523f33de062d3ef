"""Anonymous figures for the team lead's page (issue 8): how many children are active,
how often wishes were answered in time, how long a first answer takes, what the wishes
are about, and how many children want more contact with brothers and sisters or with
their parents. No names, no words; every count below MIN_COUNT is hidden (None), and a
share or median is hidden when it rests on fewer than MIN_COUNT items.

Only what children chose to share counts (shared summaries), never private answers.
The portal renders `TeamFigures` (bot/web); it computes nothing itself.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage import loop
from bot.storage.models import ConversationSession, FollowUp, Person, Wish, utcnow

MIN_COUNT = 5
# Role words (bot/lexicon/nl_people.yml) per group.
SIBLINGS = frozenset({"broer", "zus", "halfbroer", "halfzus", "stiefbroer", "stiefzus"})
PARENTS = frozenset({"moeder", "vader", "ouders", "ouder"})
# A child is active when their chat was used this recently (and the case is open).
ACTIVE_DAYS = 90


def hide_small(count: int) -> int | None:
    """The count, or None when it is below MIN_COUNT (it could point to a child)."""
    return count if count >= MIN_COUNT else None


@dataclass(frozen=True)
class TeamFigures:
    team: str | None
    active_children: int | None
    # Share (0..1) of wishes whose answer came by the deadline, over wishes answered or
    # overdue; None when fewer than MIN_COUNT such wishes.
    answered_in_time: float | None
    answered_in_time_base: int | None
    # Median days from sharing to the first answer; None when fewer than MIN_COUNT.
    median_days_to_first_answer: float | None
    wishes_by_topic: dict[str, int | None] = field(default_factory=dict)
    more_contact_siblings: int | None = None
    more_contact_parents: int | None = None


def team_figures(
    *, session: Session, team: str | None, now: datetime | None = None
) -> TeamFigures:
    """The figures for one team (team None: children without a team)."""
    now = now or utcnow()
    children = [c for c in loop.team_children(session=session, team=team)]
    open_ids = [c.id for c in children if c.closed_at is None]
    ids = [c.id for c in children]
    active = 0
    if open_ids:
        recent = now - timedelta(days=ACTIVE_DAYS)
        active = len(set(session.scalars(
            select(ConversationSession.child_id).where(
                ConversationSession.child_id.in_(open_ids),
                ConversationSession.last_seen_at >= recent,
            )
        )))
    follow_ups: list[FollowUp] = list(session.scalars(
        select(FollowUp).where(FollowUp.child_id.in_(ids), FollowUp.wish_id.is_not(None))
    )) if ids else []
    # As things stood at `now`: answers given later do not count yet.
    answered = [f for f in follow_ups if f.answered_at is not None and f.answered_at <= now]
    settled = [f for f in follow_ups if f in answered or f.answer_due < now]
    in_time = [f for f in answered if f.answered_at is not None
               and f.answered_at <= f.answer_due]
    days = [(f.answered_at - f.created_at).total_seconds() / 86400 for f in answered
            if f.answered_at is not None]

    shared_wishes: list[Wish] = list(session.scalars(
        select(Wish).where(Wish.child_id.in_(ids), Wish.shared_summary_id.is_not(None),
                           Wish.replaced_at.is_(None))
    )) if ids else []
    topics = Counter(w.topic for w in shared_wishes)

    # Roles and contact wishes are encrypted: filtered here, not in SQL.
    people = [p for p in session.scalars(
        select(Person).where(Person.child_id.in_(ids), Person.shared_summary_id.is_not(None),
                             Person.replaced_at.is_(None))
    ) if p.contact_wish == "more"] if ids else []
    siblings = {p.child_id for p in people if p.role in SIBLINGS}
    parents = {p.child_id for p in people if p.role in PARENTS}

    return TeamFigures(
        team=team,
        active_children=hide_small(active),
        answered_in_time=(len(in_time) / len(settled)) if len(settled) >= MIN_COUNT else None,
        answered_in_time_base=hide_small(len(settled)),
        median_days_to_first_answer=(
            round(statistics.median(days), 1) if len(days) >= MIN_COUNT else None
        ),
        wishes_by_topic={topic: hide_small(n) for topic, n in sorted(topics.items())},
        more_contact_siblings=hide_small(len(siblings)),
        more_contact_parents=hide_small(len(parents)),
    )
