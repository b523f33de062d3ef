"""What the team did with the wishes children shared, per topic, for the printable
"jullie vertelden ons / wij deden" page (the figures themselves come from
bot/loop/figures.py). No names, no words; every count below MIN_COUNT is hidden."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.loop.figures import MIN_COUNT, hide_small
from bot.storage import loop
from bot.storage.models import FollowUp, Wish


@dataclass(frozen=True)
class TopicRow:
    topic: str
    told: int | None  # wishes shared on this topic ("jullie vertelden ons")
    done: int | None  # answered "gedaan"
    busy: int | None  # "mee bezig" or "besproken"
    cannot: int | None  # "kan niet" (always with a reason given to the child)


def we_did(*, session: Session, team: str | None) -> list[TopicRow]:
    ids = [c.id for c in loop.team_children(session=session, team=team)]
    if not ids:
        return []
    rows = session.execute(
        select(Wish.topic, FollowUp.status)
        .outerjoin(FollowUp, FollowUp.wish_id == Wish.id)
        .where(
            Wish.child_id.in_(ids), Wish.shared_summary_id.is_not(None), Wish.replaced_at.is_(None)
        )
    ).all()
    topics: dict[str, list[str]] = {}
    for topic, status in rows:
        topics.setdefault(topic, []).append(status or "nieuw")
    return [
        TopicRow(
            topic=topic,
            told=hide_small(len(statuses)),
            done=hide_small(statuses.count("gedaan")),
            busy=hide_small(statuses.count("mee_bezig") + statuses.count("besproken")),
            cannot=hide_small(statuses.count("kan_niet")),
        )
        for topic, statuses in sorted(topics.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


__all__ = ["MIN_COUNT", "TopicRow", "we_did"]
