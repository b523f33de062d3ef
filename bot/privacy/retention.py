"""Retention, run by the worker every hour (`bot.worker.JOBS`).

- Tracker events older than `tracker_retention_days` (default 90) are purged. A
  conversation still in use keeps its place: the purged events are replaced by a
  snapshot of the slots they had set (which step the child is at, the age band...),
  without the slots that hold the child's own words (from their text, or put there by
  an action: names, summary lines, kept wishes).
- A closed case (`python -m bot close CHILD`) is erased entirely (as `forget` does)
  `closed_case_retention_days` (default 90) after it was closed.
- Safeguarding alerts are deleted `alert_retention_days` (default 365) after they
  were acknowledged (or made, if never acknowledged).
- Tombstones of erased conversations and counters of failed invite codes are dropped
  once they have done their job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain import cached_domain
from bot.privacy import tracker_db, tracker_events
from bot.privacy.erase import Scope, forget_child
from bot.settings import Settings
from bot.storage.models import Child, utcnow

log = logging.getLogger("mijnstem.retention")

DAY = 24 * 3600.0
TOMBSTONE_SECONDS = DAY


@dataclass
class RetentionReport:
    events_purged: int = 0
    conversations_emptied: int = 0
    snapshots: int = 0
    children_erased: list[int] = field(default_factory=list)
    other_rows: int = 0


# Slots that actions fill with the child's own words (names from the people step, a
# summary line, the trusted person, wishes kept while the database was down). Rasa's
# domain has no place to mark them, so they are listed here; a test checks that each
# is a slot of the domain.
ACTION_FILLED_WORDS = frozenset({
    "people_found", "people_list", "people_queue", "current_person",
    "share_item_text", "trusted_who_text", "unsaved_wishes",
})


@cache
def free_text_slots() -> frozenset[str]:
    """Slots that hold the child's words: those filled from the child's own text
    (`from_text` mappings in the domain) and those actions fill with them."""
    domain = cached_domain()
    from_text = {
        name
        for name, slot in (domain.get("slots") or {}).items()
        if any(m.get("type") == "from_text" for m in slot.get("mappings") or [])
    }
    return frozenset(from_text | (ACTION_FILLED_WORDS & set(domain.get("slots") or {})))


def _is_snapshot(event: dict[str, Any]) -> bool:
    return bool((event.get("metadata") or {}).get(tracker_events.SNAPSHOT_MARK))


def state_snapshot(
    events: list[dict[str, Any]], drop_slots: frozenset[str], timestamp: float
) -> list[dict[str, Any]]:
    """Slot and form state left behind by `events`, as events that recreate it."""
    slots: dict[str, Any] = {}
    loop: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            slots[event["name"]] = event.get("value")
        elif kind in ("reset_slots", "restart"):
            slots.clear()
            loop = None if kind == "restart" else loop
        elif kind == "active_loop":
            loop = event.get("name")
    mark = {tracker_events.SNAPSHOT_MARK: True}
    out: list[dict[str, Any]] = [
        {"event": "slot", "timestamp": timestamp, "name": name, "value": value,
         "metadata": dict(mark)}
        for name, value in slots.items()
        if name not in drop_slots
    ]
    if loop:
        out.append({"event": "active_loop", "timestamp": timestamp, "name": loop,
                    "metadata": dict(mark)})
    return out


def purge_tracker(
    conn: Connection,
    codec: tracker_events.EventCodec,
    cutoff: float,
    drop_slots: frozenset[str],
    report: RetentionReport,
) -> None:
    events = tracker_events.events
    keys = list(
        conn.execute(
            select(events.c.sender_id).where(events.c.timestamp < cutoff).distinct()
        ).scalars()
    )
    for key in keys:
        rows = conn.execute(
            select(events.c.id, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == key)
            .order_by(events.c.id)
        ).all()
        # Only a prefix is purged, so the conversation never loses a middle part.
        old = []
        for row in rows:
            if row.timestamp is None or row.timestamp >= cutoff:
                break
            old.append(row)
        if not old:
            continue
        ids = [row.id for row in old]
        if len(old) == len(rows):
            conn.execute(events.delete().where(events.c.id.in_(ids)))
            report.events_purged += len(old)
            report.conversations_emptied += 1
            continue
        decoded = [codec.decode(row.data) for row in old]
        if all(_is_snapshot(e) for e in decoded):
            continue  # already reduced to a snapshot by an earlier run
        snapshot = state_snapshot(decoded, drop_slots, old[-1].timestamp)
        conn.execute(events.delete().where(events.c.id.in_(ids)))
        if snapshot:
            # Reuse the lowest purged ids: Rasa reads events in id order, and the
            # snapshot must come before what is kept.
            conn.execute(
                events.insert(),
                [{"id": row_id, **codec.row(key, event)}
                 for row_id, event in zip(ids, snapshot, strict=False)],
            )
            report.snapshots += 1
        report.events_purged += len(old)


def purge_closed_cases(
    settings: Settings, sessions: sessionmaker[Session], now: datetime, report: RetentionReport
) -> None:
    limit = now - timedelta(days=settings.closed_case_retention_days)
    with sessions.begin() as session:
        expired = list(
            session.scalars(
                select(Child.id).where(Child.closed_at.is_not(None), Child.closed_at <= limit)
            )
        )
    for child_id in expired:
        forget_child(settings, sessions, child_id, Scope.FULL)
        report.children_erased.append(child_id)


def purge_link_attempts(
    settings: Settings, sessions: sessionmaker[Session], now: datetime, report: RetentionReport
) -> None:
    from bot.storage.models import LinkAttempt

    keep = timedelta(minutes=max(settings.link_window_minutes,
                                 settings.link_max_backoff_minutes))
    with sessions.begin() as session:
        result = session.execute(delete(LinkAttempt).where(LinkAttempt.created_at < now - keep))
        report.other_rows += int(getattr(result, "rowcount", 0) or 0)


def purge_alerts(
    settings: Settings, sessions: sessionmaker[Session], now: datetime, report: RetentionReport
) -> None:
    """Alerts (with their encrypted category and excerpt) are kept
    `alert_retention_days` after they were acknowledged, or after they were made when
    nobody ever acknowledged them (they were escalated long before)."""
    from sqlalchemy import or_

    from bot.storage.models import Alert

    cutoff = now - timedelta(days=settings.alert_retention_days)
    with sessions.begin() as session:
        result = session.execute(delete(Alert).where(or_(
            Alert.acknowledged_at < cutoff,
            Alert.acknowledged_at.is_(None) & (Alert.created_at < cutoff),
        )))
        report.other_rows += int(getattr(result, "rowcount", 0) or 0)


def run_once(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    now: datetime | None = None,
) -> RetentionReport:
    moment = now or utcnow()
    report = RetentionReport()
    cutoff = moment.timestamp() - settings.tracker_retention_days * DAY
    with tracker_db.tracker_transaction(settings) as conn:
        purge_tracker(conn, tracker_db.codec(settings), cutoff, free_text_slots(), report)
        report.other_rows += tracker_events.forget_tombstones(
            conn, moment.timestamp() - TOMBSTONE_SECONDS
        )
    purge_closed_cases(settings, sessions, moment, report)
    purge_link_attempts(settings, sessions, moment, report)
    purge_alerts(settings, sessions, moment, report)
    if report.events_purged or report.children_erased:
        log.info(
            "retention: %d tracker events purged (%d conversations emptied, %d kept as a "
            "snapshot), %d closed cases erased",
            report.events_purged, report.conversations_emptied, report.snapshots,
            len(report.children_erased),
        )
    return report


