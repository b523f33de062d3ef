"""Storage of safeguarding alerts. Like bot.storage.repo: each function takes the session
as a keyword argument and the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Alert, Caseworker, Child, utcnow

# The stored excerpt: the clause that raised the alarm, never the whole conversation.
MAX_EXCERPT = 200
# A second alarm of the same kind from the same chat within this window is the same
# alert (the child keeps talking about it); anything else gets its own.
DEDUPE_WINDOW = timedelta(minutes=30)


class AlertNotFound(LookupError):
    pass


def excerpt(text: str, start: int | None = None, end: int | None = None) -> str:
    """The words that raised the alarm, at most MAX_EXCERPT characters."""
    text = text or ""
    if start is not None and end is not None and 0 <= start < end <= len(text):
        text = text[start:end]
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1].rstrip() + "…"


def create_alert(
    *,
    session: Session,
    sender_hash: str,
    channel: str,
    category: str,
    excerpt_text: str | None,
    child_id: int | None,
    caseworker_id: int | None,
    now: datetime | None = None,
) -> Alert:
    alert = Alert(
        sender_hash=sender_hash,
        channel=channel,
        category=category,
        excerpt=excerpt(excerpt_text) if excerpt_text else None,
        child_id=child_id,
        caseworker_id=caseworker_id,
        created_at=now or utcnow(),
    )
    session.add(alert)
    session.flush()
    return alert


def recent_open_alert(
    *, session: Session, sender_hash: str, category: str, now: datetime | None = None
) -> Alert | None:
    """An unacknowledged alert of this kind from this chat within DEDUPE_WINDOW."""
    since = (now or utcnow()) - DEDUPE_WINDOW
    # The category is encrypted (not searchable): compare after loading. A chat has
    # at most a handful of open alerts within the window.
    candidates = session.scalars(
        select(Alert)
        .where(
            Alert.sender_hash == sender_hash,
            Alert.acknowledged_at.is_(None),
            Alert.created_at >= since,
        )
        .order_by(Alert.id.desc())
    )
    return next((alert for alert in candidates if alert.category == category), None)


def get_alert(*, session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert with id {alert_id}")
    return alert


def list_alerts(*, session: Session, include_acknowledged: bool = False) -> list[Alert]:
    """Open alerts first come first (oldest waits longest); with `include_acknowledged`,
    every alert."""
    query = select(Alert)
    if not include_acknowledged:
        query = query.where(Alert.acknowledged_at.is_(None))
    return list(session.scalars(query.order_by(Alert.created_at, Alert.id)))


def acknowledge(
    *, session: Session, alert_id: int, by: str, now: datetime | None = None
) -> Alert:
    alert = get_alert(session=session, alert_id=alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now or utcnow()
        alert.acknowledged_by = by.strip()[:254]
        session.flush()
    return alert


def unnotified(*, session: Session, created_before: datetime) -> list[Alert]:
    """Alerts whose notification has not gone out yet (the mail server was down)."""
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.notified_at.is_(None), Alert.created_at <= created_before)
            .order_by(Alert.id)
        )
    )


def unlinked_notified_since(*, session: Session, since: datetime) -> int:
    """How many alerts from chats not linked to a child were sent out since `since`."""
    from sqlalchemy import func

    return int(session.scalar(
        select(func.count(Alert.id)).where(
            Alert.child_id.is_(None), Alert.notified_at.is_not(None), Alert.notified_at >= since)
    ) or 0)


def due_for_escalation(*, session: Session, created_before: datetime) -> list[Alert]:
    """Unacknowledged alerts older than the escalation time, not escalated yet."""
    return list(
        session.scalars(
            select(Alert)
            .where(
                Alert.acknowledged_at.is_(None),
                Alert.escalated_at.is_(None),
                Alert.created_at <= created_before,
            )
            .order_by(Alert.id)
        )
    )


@dataclass(frozen=True)
class AlertView:
    """An alert with what a caseworker needs to act, detached from the session."""

    id: int
    category: str
    channel: str
    created_at: datetime
    sender_ref: str  # first characters of the chat's keyed hash, to find the chat
    child_id: int | None
    child_name: str | None
    child_age: int | None
    caseworker_name: str | None
    caseworker_email: str | None
    caseworker_chat: str | None
    excerpt: str | None
    notified_at: datetime | None
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def view(*, session: Session, alert: Alert) -> AlertView:
    child = session.get(Child, alert.child_id) if alert.child_id is not None else None
    caseworker = (
        session.get(Caseworker, alert.caseworker_id) if alert.caseworker_id is not None else None
    )
    return AlertView(
        id=alert.id,
        category=alert.category,
        channel=alert.channel,
        created_at=alert.created_at,
        sender_ref=alert.sender_hash[:8],
        child_id=alert.child_id,
        child_name=child.display_name if child else None,
        child_age=child.age if child else None,
        caseworker_name=caseworker.name if caseworker else None,
        caseworker_email=caseworker.email if caseworker else None,
        caseworker_chat=caseworker.telegram_chat if caseworker else None,
        excerpt=alert.excerpt,
        notified_at=alert.notified_at,
        escalated_at=alert.escalated_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
    )
