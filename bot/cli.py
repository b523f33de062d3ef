"""`python -m bot`: the command line for caseworkers and operators."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

# Only what building the parser needs: every command imports its own modules when it
# runs (`python -m bot --help` loads no SQLAlchemy, Alembic, pydantic or argon2).
from bot.age import MAX_AGE, MIN_AGE
from bot.roles import ROLES

if TYPE_CHECKING:
    from bot.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Mijn Stem")
    sub = parser.add_subparsers(dest="command", required=True)

    cw = sub.add_parser("caseworker", help="manage caseworkers")
    cw_sub = cw.add_subparsers(dest="caseworker_command", required=True)
    cw_add = cw_sub.add_parser("add", help="add a caseworker")
    cw_add.add_argument("email")
    cw_add.add_argument("--name", required=True)
    cw_add.add_argument("--role", choices=ROLES, default="caseworker")
    cw_add.add_argument("--team", help="team name (team leads see their team's children)")
    cw_pw = cw_sub.add_parser(
        "password", help="set a portal password, read from standard input (no echo)"
    )
    cw_pw.add_argument("email")

    inv = sub.add_parser("invite", help="create an invite code for a child")
    inv.add_argument("--age", type=int, help=f"the child's age ({MIN_AGE}-{MAX_AGE})")
    inv.add_argument("--born", metavar="YYYY-MM",
                     help="birth month and year; the age band follows the birthday")
    inv.add_argument("--name", help="first name or pseudonym the bot uses")
    inv.add_argument("--caseworker", metavar="EMAIL", help="caseworker who reads the summaries")
    inv.add_argument("--team", help="team whose inbox gets the child's items without a caseworker")
    inv.add_argument("--child", type=int, metavar="ID", help="new code for an existing child")
    inv.add_argument("--qr", metavar="FILE", help="also write a PNG with QR codes of the links")

    summ = sub.add_parser("summaries", help="show summaries children chose to share")
    summ.add_argument("--caseworker", metavar="EMAIL")

    sub.add_parser("migrate", help="apply database migrations")
    demo = sub.add_parser("demo", help="fill a development database with demo data")
    demo.set_defaults(handler="bot.demo:demo_command")
    notices = sub.add_parser(
        "notices", help="send queued e-mail notices and escalate overdue answers now"
    )
    notices.set_defaults(handler="bot.loop.jobs:notices_command")
    from bot.loop.checkins import add_parser as add_checkin_parser

    add_checkin_parser(sub)

    # Commands implemented in their own modules, imported only when used:
    # each handler is `fn(settings, args) -> int`.
    web = sub.add_parser("web", help="start the web app (web chat, caseworker pages)")
    web.set_defaults(handler="bot.web.server:serve")
    tg = sub.add_parser("telegram", help="start the Telegram bridge (needs TELEGRAM_BOT_TOKEN)")
    tg.set_defaults(handler="bot.telegram.app:run")
    cw_tg = cw_sub.add_parser("telegram-code", help="code to link a caseworker's Telegram chat")
    cw_tg.add_argument("email")
    cw_tg.set_defaults(handler="bot.telegram.caseworkers:invite_command")
    worker = sub.add_parser("worker", help="run periodic jobs (alert escalation, retention)")
    worker.set_defaults(handler="bot.worker:run")
    alerts = sub.add_parser("alerts", help="list open safeguarding alerts")
    alerts.add_argument("--all", action="store_true", help="include acknowledged alerts")
    alerts.set_defaults(handler="bot.safety.cli:alerts_command")
    ack = sub.add_parser("ack", help="acknowledge a safeguarding alert")
    ack.add_argument("alert_id", type=int, metavar="ID")
    ack.add_argument("--by", metavar="EMAIL", help="who acknowledges it")
    ack.set_defaults(handler="bot.safety.cli:ack_command")
    forget = sub.add_parser("forget", help="erase all of a child's data")
    forget.add_argument("child_id", type=int, metavar="CHILD")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.set_defaults(handler="bot.privacy.cli:forget_command")
    export = sub.add_parser("export", help="write all of a child's data as JSON")
    export.add_argument("child_id", type=int, metavar="CHILD")
    export.add_argument("--output", "-o", metavar="FILE", help="default: standard output")
    export.set_defaults(handler="bot.privacy.cli:export_command")
    close = sub.add_parser(
        "close", help="close a child's case (data erased after a retention period)"
    )
    close.add_argument("child_id", type=int, metavar="CHILD")
    close.add_argument("--reopen", action="store_true", help="undo: the case is open again")
    close.set_defaults(handler="bot.privacy.cli:close_command")
    rotate = sub.add_parser("rotate-keys", help="re-encrypt all stored data under the newest key")
    rotate.set_defaults(handler="bot.privacy.cli:rotate_command")
    sub.add_parser("run", help="start every part of the stack (make run)")
    sub.add_parser("actions", help="start the Rasa action server")
    sub.add_parser("train", help="train a Rasa model unless an up-to-date one exists")
    chat = sub.add_parser("chat", help="chat with the running bot in this terminal")
    chat.add_argument("--sender", help="conversation id (default: a new one)")
    return parser


def fail(message: str) -> int:
    """An error for the operator on stderr; exit code 2 (the command modules use it too)."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot.optional_imports import remember_absent

    remember_absent()
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        return fail(str(exc))

    handler = getattr(args, "handler", None)
    if handler:
        import importlib

        module_name, func_name = handler.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise
            return fail(f"'{args.command}' is not available in this version")
        func = getattr(module, func_name)
        rc: int | None = None
        try:
            rc = int(func(settings, args))
        finally:
            _audit(settings, args, rc)
        return rc

    if args.command == "run":
        from bot.stack import run_stack

        return run_stack(settings)
    if args.command == "actions":
        from bot.action_server import serve

        return serve(settings)
    if args.command == "train":
        from bot.model import ensure_model

        ensure_model(verbose=True)
        return 0
    if args.command == "chat":
        from bot.terminal_chat import chat

        return chat(settings, sender=args.sender)

    from sqlalchemy.exc import OperationalError

    from bot.cli_commands import database_command

    rc = None
    try:
        rc = database_command(args, settings)
        return rc
    except OperationalError as exc:
        return fail(f"the database cannot be reached ({exc.orig}); is DATABASE_URL right?")
    finally:
        if rc is not None:
            # database_command brought the database to the head already.
            _audit(settings, args, rc, migrated=True)


# Commands that read or change data; each run is written to the audit log.
_AUDITED = {"caseworker", "invite", "summaries", "alerts", "ack", "forget", "export", "close",
            "rotate-keys", "demo", "notices", "checkin"}


def _audit(
    settings: Settings, args: argparse.Namespace, rc: int | None, *, migrated: bool = False
) -> None:
    """Record the command in the audit log (after it ran, so `forget` is recorded too).
    Never holds child content: the command, its target and the exit code. `migrated`:
    this process migrated the database already (Alembic costs a few tenths of a second)."""
    if args.command not in _AUDITED:
        return
    from bot import accounts, audit
    from bot.storage import migrate
    from bot.storage.db import make_engine, make_session_factory

    action = f"cli.{args.command}"
    sub = getattr(args, "caseworker_command", None) or getattr(args, "checkin_command", None)
    if sub:
        action += f".{sub}"
    child_id = getattr(args, "child_id", None) or getattr(args, "child", None)
    if args.command in ("ack",):
        target: str | None = f"alert:{args.alert_id}"
    elif child_id is not None:
        target = f"child:{child_id}"
    elif getattr(args, "email", None):
        target = f"account:{accounts.normalise_email(args.email)}"
    else:
        target = None
    try:
        engine = make_engine(settings)
        try:
            if not migrated:
                migrate.upgrade(engine)
            with make_session_factory(engine).begin() as session:
                audit.record(
                    session=session, action=action, actor=audit.cli_actor(), target=target,
                    child_id=child_id if isinstance(child_id, int) else None,
                    allowed=rc == 0, source="cli",
                    detail="exit code " + ("error" if rc is None else str(rc)),
                )
        finally:
            engine.dispose()
    except Exception as exc:  # noqa: BLE001 - the command itself already ran
        print(f"warning: not written to the audit log ({type(exc).__name__})", file=sys.stderr)
