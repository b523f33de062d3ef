"""Key rotation (`python -m bot rotate-keys`): re-encrypt every stored token under the
newest key, so that older keys can then be removed from MIJNSTEM_ENCRYPTION_KEYS.

Covers every encrypted column (`ENCRYPTED_TYPES`) of the app database (found from the models, so new
tables are included) and the `data` column of Rasa's tracker events. Tracker events left
in clear by a version before encryption (or under plain sender ids) are encrypted and
pseudonymised on the way. See docs/privacy.md for the procedure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Connection, column, select, table, update
from sqlalchemy.orm import Session, sessionmaker

from bot.privacy import tracker_db, tracker_events
from bot.settings import Settings
from bot.storage.crypto import Cipher
from bot.storage.models import ENCRYPTED_TYPES, Base

BATCH = 500


@dataclass
class RotationReport:
    app_values: dict[str, int] = field(default_factory=dict)
    tracker_events: int = 0
    tracker_events_encrypted_first_time: int = 0


def encrypted_columns() -> dict[str, list[str]]:
    """Table name -> names of its encrypted columns."""
    found: dict[str, list[str]] = {}
    for tbl in Base.metadata.sorted_tables:
        names = [c.name for c in tbl.columns if isinstance(c.type, ENCRYPTED_TYPES)]
        if names:
            found[tbl.name] = names
    return found


def rotate_app_db(*, session: Session, cipher: Cipher, report: RotationReport) -> None:
    for table_name, names in encrypted_columns().items():
        # Lightweight table clause: plain text columns, so the tokens are read and
        # written as they are stored, without EncryptedText decrypting them.
        raw = table(table_name, column("id"), *(column(n) for n in names))
        count = 0
        for row in session.execute(select(raw)).all():
            values = {
                n: cipher.rotate(getattr(row, n)) for n in names if getattr(row, n) is not None
            }
            if values:
                session.execute(update(raw).where(raw.c.id == row.id).values(**values))
                count += len(values)
        if count:
            report.app_values[table_name] = count


def rotate_tracker(
    conn: Connection, codec: tracker_events.EventCodec, report: RotationReport
) -> None:
    events = tracker_events.events
    last_id = 0
    while True:
        rows = conn.execute(
            select(events.c.id, events.c.sender_id, events.c.data)
            .where(events.c.id > last_id)
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            last_id = row.id
            if row.data is None:
                continue
            if row.data.lstrip().startswith("{"):
                # Written by Rasa's plain SQL store: the sender id is still readable.
                event = json.loads(row.data)
                values = codec.row(codec.sender_key(row.sender_id), event)
                report.tracker_events_encrypted_first_time += 1
            else:
                values = {"data": codec.cipher.rotate(row.data)}
            conn.execute(events.update().where(events.c.id == row.id).values(**values))
            report.tracker_events += 1


def rotate_all(settings: Settings, sessions: sessionmaker[Session]) -> RotationReport:
    report = RotationReport()
    cipher = Cipher(settings.encryption_keys)
    with sessions.begin() as session:
        rotate_app_db(session=session, cipher=cipher, report=report)
    with tracker_db.tracker_transaction(settings) as conn:
        rotate_tracker(conn, tracker_db.codec(settings), report)
    return report
