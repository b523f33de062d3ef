"""`python -m bot alerts` and `python -m bot ack ID`: safeguarding alerts on the command
line (the caseworker web app shows the same alerts on top)."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.safety import alerts
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory


def _when(value: object) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def alerts_command(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            found = alerts.list_alerts(session=session, include_acknowledged=args.all)
            views = [alerts.view(session=session, alert=a) for a in found]
    finally:
        engine.dispose()
    if not views:
        print("no alerts" if args.all else "no open alerts")
        return 0
    for a in views:
        state = (f"ACKNOWLEDGED {_when(a.acknowledged_at)} by {a.acknowledged_by}"
                 if a.acknowledged_at else "OPEN")
        child = (f"child {a.child_id} ({a.child_name or 'no name'}"
                 f"{f', {a.child_age}' if a.child_age else ''})"
                 if a.child_id else f"unlinked chat {a.sender_ref}")
        caseworker = (f"{a.caseworker_name} <{a.caseworker_email}>" if a.caseworker_email
                      else "safeguarding contact")
        print(f"--- alert {a.id} | {state} | {a.category} | {_when(a.created_at)}")
        print(f"    {child} | {a.channel} | to: {caseworker}")
        print(f"    notified: {_when(a.notified_at)} | escalated: {_when(a.escalated_at)}")
        if a.excerpt:
            print(f"    words: {a.excerpt}")
    return 0


def ack_command(settings: Settings, args: argparse.Namespace) -> int:
    by = (args.by or "").strip() or getpass.getuser()
    engine = make_engine(settings)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            try:
                before = alerts.get_alert(session=session, alert_id=args.alert_id).acknowledged_at
                alert = alerts.acknowledge(session=session, alert_id=args.alert_id, by=by)
            except alerts.AlertNotFound as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            if before is not None:
                print(f"alert {alert.id} was already acknowledged "
                      f"{_when(alert.acknowledged_at)} by {alert.acknowledged_by}")
            else:
                print(f"alert {alert.id} acknowledged by {alert.acknowledged_by}")
    finally:
        engine.dispose()
    return 0
