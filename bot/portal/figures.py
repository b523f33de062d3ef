"""Anonymous figures for a team lead: no names, no words of a child, and every count
below MIN_COUNT hidden (shown as "fewer than 5"), so that no child can be recognised.

Only what children chose to share is counted."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.network.sectors import PARENT_ROLES, SIBLING_ROLES
from bot.storage import loop
from bot.storage.models import ConversationSession, FollowUp, Person, Wish, utcnow

MIN_COUNT = 5


@dataclass(frozen=True)
class Count:
    """A count that is shown only when it is at least MIN_COUNT."""

    value: int

    @property
    def hidden(self) -> bool:
        return 0 < self.value < MIN_COUNT

    def __str__(self) -> str:
        return f"<{MIN_COUNT}" if self.hidden else str(self.value)


@dataclass(frozen=True)
class TopicRow:
    topic: str
    told: Count  # wishes shared on this topic ("jullie vertelden ons")
    done: Count  # answered "gedaan"
    busy: Count  # "mee bezig" or "besproken"
    cannot: Count  # "kan niet" (with a reason given to the child)


@dataclass
class TeamFigures:
    active_children: Count
    answered_in_time_pct: int | None  # None when fewer than MIN_COUNT were due
    median_days_to_first_answer: float | None
    more_contact_siblings: Count
    more_contact_parents: Count
    topics: list[TopicRow] = field(default_factory=list)


def team_figures(*, session: Session, team: str | None, now: datetime | None = None) -> TeamFigures:
    now = now or utcnow()
    children = loop.team_children(session=session, team=team)
    ids = [c.id for c in children if c.closed_at is None]
    active = set(
        session.scalars(
            select(ConversationSession.child_id).where(ConversationSession.child_id.in_(ids))
        )
    )
    wishes = list(
        session.scalars(select(Wish).where(Wish.child_id.in_(ids), Wish.shared.is_(True)))
    )
    follow_ups = list(
        session.scalars(
            select(FollowUp).where(FollowUp.child_id.in_(ids), FollowUp.wish_id.is_not(None))
        )
    )
    due = [f for f in follow_ups if f.answered_at is not None or f.answer_due < now]
    in_time = [f for f in due if f.answered_at is not None and f.answered_at <= f.answer_due]
    answered = [f for f in follow_ups if f.answered_at is not None]
    median = (
        round(
            statistics.median(
                (f.answered_at - f.created_at).total_seconds() / 86400  # type: ignore[operator]
                for f in answered
            ),
            1,
        )
        if len(answered) >= MIN_COUNT
        else None
    )
    people = list(
        session.scalars(
            select(Person).where(
                Person.child_id.in_(ids),
                Person.shared.is_(True),
                Person.replaced_at.is_(None),
                Person.contact_wish == "more",
            )
        )
    )
    siblings = {p.child_id for p in people if p.role in SIBLING_ROLES}
    parents = {p.child_id for p in people if p.role in PARENT_ROLES}
    status_by_wish = {f.wish_id: f.status for f in follow_ups}
    topics: dict[str, list[str]] = {}
    for wish in wishes:
        topics.setdefault(wish.topic, []).append(status_by_wish.get(wish.id, "nieuw"))
    rows = [
        TopicRow(
            topic=topic,
            told=Count(len(statuses)),
            done=Count(statuses.count("gedaan")),
            busy=Count(statuses.count("mee_bezig") + statuses.count("besproken")),
            cannot=Count(statuses.count("kan_niet")),
        )
        for topic, statuses in sorted(topics.items(), key=lambda kv: -len(kv[1]))
    ]
    return TeamFigures(
        active_children=Count(len(active)),
        answered_in_time_pct=round(100 * len(in_time) / len(due))
        if len(due) >= MIN_COUNT
        else None,
        median_days_to_first_answer=median,
        more_contact_siblings=Count(len(siblings)),
        more_contact_parents=Count(len(parents)),
        topics=rows,
    )
