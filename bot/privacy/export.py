"""Export for access requests (`python -m bot export CHILD`): everything stored about
a child, decrypted, as JSON.

Uses the same notion of "the child's rows" as erasure (`bot.privacy.erase.ownership`),
so whatever `forget` would erase, `export` shows. Internal identifiers that mean nothing
outside the system (keyed hashes, pseudonymous sender ids) are left out.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.privacy import tracker_db, tracker_events
from bot.privacy.erase import Owner, owner_of_child, ownership
from bot.settings import Settings
from bot.storage.models import Base, Child

EXPORT_VERSION = 1
HIDDEN_COLUMNS = ("sender", "sender_id")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _visible(column_name: str) -> bool:
    return not (column_name.endswith("_hash") or column_name in HIDDEN_COLUMNS)


def export_rows(*, session: Session, owner: Owner, settings: Settings) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {}
    for table in Base.metadata.sorted_tables:
        where = ownership(table, owner, session=session, pseudonym_secret=settings.pseudonym_secret)
        if where is None:
            continue
        columns = [c for c in table.columns if _visible(c.name)]
        order = table.c.id if "id" in table.c else columns[0]
        rows = session.execute(select(*columns).where(where).order_by(order)).all()
        if rows:
            tables[table.name] = [
                {c.name: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows
            ]
    return tables


def _readable(event: dict[str, Any]) -> dict[str, Any] | None:
    """A tracker event as a line of the conversation, or None for bookkeeping events."""
    when = event.get("timestamp")
    time = (
        datetime.fromtimestamp(when, tz=timezone.utc).isoformat()
        if isinstance(when, (int, float))
        else None
    )
    kind = event.get("event")
    if kind == "user":
        intent = (event.get("parse_data") or {}).get("intent") or {}
        return {"time": time, "from": "child", "text": event.get("text"),
                "understood_as": intent.get("name")}
    if kind == "bot":
        line: dict[str, Any] = {"time": time, "from": "bot", "text": event.get("text")}
        buttons = (event.get("data") or {}).get("buttons")
        if buttons:
            line["buttons"] = [b.get("title") for b in buttons]
        return line
    if kind == "slot":
        return {"time": time, "remembered": event.get("name"), "value": event.get("value")}
    return None


def export_conversations(settings: Settings, owner: Owner) -> list[dict[str, Any]]:
    codec = tracker_db.codec(settings)
    by_chat: dict[str, list[dict[str, Any]]] = {}
    with tracker_db.tracker_transaction(settings) as conn:
        for key, event in tracker_events.stored_events(conn, codec, owner.sender_keys):
            line = _readable(event)
            if line is not None:
                by_chat.setdefault(key, []).append(line)
    # Chats are numbered, not named: the key is an internal pseudonym.
    return [
        {"chat": number, "events": lines}
        for number, lines in enumerate(
            (by_chat[k] for k in owner.sender_keys if k in by_chat), start=1
        )
    ]


def export_child(
    settings: Settings, sessions: sessionmaker[Session], child_id: int
) -> dict[str, Any]:
    with sessions.begin() as session:
        if session.get(Child, child_id) is None:
            raise LookupError(f"no child with id {child_id}")
        owner = owner_of_child(session=session, child_id=child_id, settings=settings)
        tables = export_rows(session=session, owner=owner, settings=settings)
    return {
        "export_version": EXPORT_VERSION,
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "child_id": child_id,
        "stored_data": tables,
        "conversations": export_conversations(settings, owner),
    }
