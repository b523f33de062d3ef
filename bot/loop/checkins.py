"""`python -m bot checkin plan|list`: check-ins before a meeting (issue 11).

A caseworker plans a check-in for a child on a day (before a care-plan evaluation).
From that day the child is offered it: on Telegram the bridge invites them once
(bot/telegram/bridge.py), on the web chat and REST at their next visit or message
(actions/flow.py). The answers reach the caseworker through the answer loop
(actions/checkin.py), only with the child's yes. Output is for the operator (English);
`about` is never shown to the child.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from bot.settings import Settings
from bot.storage import loop, migrate, repo
from bot.storage.db import make_engine, make_session_factory


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    checkin = sub.add_parser("checkin", help="plan or list check-ins before a meeting")
    checkin.set_defaults(handler="bot.loop.checkins:checkin_command")
    checkin_sub = checkin.add_subparsers(dest="checkin_command", required=True)
    plan = checkin_sub.add_parser("plan", help="plan a check-in for a child on a day")
    plan.add_argument("--child", type=int, metavar="ID", required=True)
    plan.add_argument("--date", required=True, metavar="YYYY-MM-DD",
                      help="the day the child is invited (on or before the meeting)")
    plan.add_argument("--about", help="what the meeting is about (not shown to the child)")
    listing = checkin_sub.add_parser("list", help="list planned check-ins")
    listing.add_argument("--child", type=int, metavar="ID")


def checkin_command(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings)
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        if args.checkin_command == "plan":
            return _plan(factory, args)
        return _list(factory, args)
    finally:
        engine.dispose()


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _plan(factory, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    try:
        due_on = date.fromisoformat(args.date)
    except ValueError:
        return _fail("--date must be YYYY-MM-DD")
    with factory.begin() as session:
        try:
            child = repo.get_child(session=session, child_id=args.child)
        except repo.NotFound as exc:
            return _fail(str(exc))
        checkin = loop.plan_checkin(session=session, child=child, due_on=due_on,
                                    about=args.about, planned_by="cli")
        print(f"check-in {checkin.id} for child {child.id} on {due_on.isoformat()}")
    return 0


def _list(factory, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    with factory.begin() as session:
        found = loop.checkins(session=session, child_id=args.child)
        if not found:
            print("no check-ins planned")
        for checkin in found:
            state = ("done" if checkin.done_at else
                     "invited" if checkin.invited_at else "planned")
            about = f" | {checkin.about}" if checkin.about else ""
            print(f"{checkin.id} | child {checkin.child_id} | {checkin.due_on.isoformat()} "
                  f"| {state}{about}")
    return 0
