"""`python -m bot forget | export | close | rotate-keys` (handlers wired in bot/cli.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.cli import fail
from bot.privacy.erase import Scope, checkpoint_app_db, forget_child
from bot.privacy.export import export_child
from bot.privacy.rotate import rotate_all
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Child, utcnow


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def forget_command(settings: Settings, args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            return fail("add --yes to erase without a question (no terminal to ask)")
        answer = input(
            f"Erase ALL data of child {args.child_id} (answers, conversations, the case "
            "record)? This cannot be undone. Type 'yes': "
        )
        if answer.strip().lower() != "yes":
            print("nothing erased")
            return 1
    with _database(settings) as sessions:
        try:
            report = forget_child(settings, sessions, args.child_id, Scope.FULL)
        except LookupError as exc:
            return fail(str(exc))
    rows = ", ".join(f"{name}: {n}" for name, n in sorted(report.rows.items())) or "none"
    print(f"child {args.child_id} erased. rows: {rows}; tracker events: {report.tracker_events}")
    print("safeguarding alerts, if any, are kept without the child's words (docs/privacy.md)")
    return 0


def export_command(settings: Settings, args: argparse.Namespace) -> int:
    with _database(settings) as sessions:
        try:
            data = export_child(settings, sessions, args.child_id)
        except LookupError as exc:
            return fail(str(exc))
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    # The export holds a child's words in clear: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote {path} (contains personal data in clear: hand it over securely, then delete it)")
    return 0


def close_command(settings: Settings, args: argparse.Namespace) -> int:
    with _database(settings) as sessions, sessions.begin() as session:
        child = session.get(Child, args.child_id)
        if child is None:
            return fail(f"no child with id {args.child_id}")
        if args.reopen:
            child.closed_at = None
            print(f"case of child {args.child_id} reopened")
            return 0
        child.closed_at = child.closed_at or utcnow()
        erase_on = child.closed_at + timedelta(days=settings.closed_case_retention_days)
        print(f"case of child {args.child_id} closed on {child.closed_at:%Y-%m-%d}; "
              f"its data will be erased after {erase_on:%Y-%m-%d}")
    return 0


def rotate_command(settings: Settings, args: argparse.Namespace) -> int:
    with _database(settings) as sessions:
        report = rotate_all(settings, sessions)
        bind = sessions.kw.get("bind")
        if bind is not None:
            checkpoint_app_db(bind)
    app_total = sum(report.app_values.values())
    print(f"re-encrypted under the newest key: {app_total} values in the app database, "
          f"{report.tracker_events} tracker events")
    if report.tracker_events_encrypted_first_time:
        print(f"({report.tracker_events_encrypted_first_time} tracker events were stored in "
              "clear by an older version and are now encrypted)")
    print("older keys can now be removed from MIJNSTEM_ENCRYPTION_KEYS (then restart)")
    return 0
