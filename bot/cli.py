"""`python -m bot`: the command line for caseworkers and operators."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError, OperationalError

from bot import accounts, audit, invites
from bot.age import MAX_AGE, MIN_AGE, age_group, age_on, born_from_age, parse_born
from bot.settings import Settings, SettingsError, load_settings
from bot.storage import loop, migrate, repo
from bot.storage.db import make_engine, make_session_factory


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Mijn Stem")
    sub = parser.add_subparsers(dest="command", required=True)

    cw = sub.add_parser("caseworker", help="manage caseworkers")
    cw_sub = cw.add_subparsers(dest="caseworker_command", required=True)
    cw_add = cw_sub.add_parser("add", help="add a caseworker")
    cw_add.add_argument("email")
    cw_add.add_argument("--name", required=True)
    cw_add.add_argument("--role", choices=accounts.ROLES, default="caseworker")
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


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))

    handler = getattr(args, "handler", None)
    if handler:
        import importlib

        module_name, func_name = handler.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise
            return _fail(f"'{args.command}' is not available in this version")
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

    rc = None
    try:
        rc = _database_command(args, settings)
        return rc
    except OperationalError as exc:
        return _fail(f"the database cannot be reached ({exc.orig}); is DATABASE_URL right?")
    finally:
        if rc is not None:
            _audit(settings, args, rc)


# Commands that read or change data; each run is written to the audit log.
_AUDITED = {"caseworker", "invite", "summaries", "alerts", "ack", "forget", "export", "close",
            "rotate-keys", "demo", "notices", "checkin"}


def _audit(settings: Settings, args: argparse.Namespace, rc: int | None) -> None:
    """Record the command in the audit log (after it ran, so `forget` is recorded too).
    Never holds child content: the command, its target and the exit code."""
    if args.command not in _AUDITED:
        return
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


def _database_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    try:
        if args.command == "migrate":
            print("database is up to date")
            return 0
        if args.command == "caseworker" and args.caseworker_command == "password":
            return _caseworker_password(factory, args)
        if args.command == "caseworker":
            return _caseworker_add(factory, args)
        if args.command == "invite":
            return _invite(factory, settings, args)
        if args.command == "summaries":
            return _summaries(factory, args)
    finally:
        engine.dispose()
    return _fail(f"unknown command {args.command}")


def _caseworker_add(factory, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    try:
        with factory.begin() as session:
            account = accounts.create(
                session=session, email=args.email, name=args.name, role=args.role,
                team=args.team,
            )
            team = f", team {account.team}" if account.team else ""
            print(f"{account.role} {account.id}: {account.name} <{account.email}>{team}")
    except accounts.AccountError as exc:
        return _fail(str(exc))
    except IntegrityError:
        return _fail(f"a caseworker with email {args.email} already exists")
    print(f"set a portal password with: python -m bot caseworker password {args.email}")
    return 0


def _read_password() -> str | None:
    """From a terminal: twice, without echo. Piped: the first line of standard input."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            return None
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _caseworker_password(factory, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    with factory.begin() as session:
        account = accounts.get_by_email(session=session, email=args.email)
        if account is None:
            return _fail(f"no caseworker with email {args.email}")
        password = _read_password()
        if password is None:
            return _fail("the two passwords differ; nothing changed")
        try:
            accounts.set_password(session=session, account=account, password=password)
        except accounts.AccountError as exc:
            return _fail(str(exc))
        print(f"password set for {account.email}")
    return 0


def _invite(factory, settings: Settings, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    if args.age is not None and args.born is not None:
        return _fail("give --age or --born, not both")
    if args.age is not None and not MIN_AGE <= args.age <= MAX_AGE:
        return _fail(f"--age must be between {MIN_AGE} and {MAX_AGE}")
    born = born_from_age(args.age) if args.age is not None else None
    age = args.age
    if args.born is not None:
        try:
            year, month = parse_born(args.born)
        except ValueError:
            return _fail("--born must be a year and month: YYYY-MM")
        born = f"{year:04d}-{month:02d}"
        age = age_on(born)
        if not MIN_AGE <= age <= MAX_AGE:
            return _fail(f"--born gives age {age}; it must be between {MIN_AGE} and {MAX_AGE}")
    if args.qr and not Path(args.qr).resolve().parent.is_dir():
        return _fail(f"--qr: the folder of {args.qr} does not exist")
    with factory.begin() as session:
        try:
            caseworker = (
                repo.get_caseworker(session=session, email=args.caseworker)
                if args.caseworker
                else None
            )
            if args.child is not None:
                child = repo.get_child(session=session, child_id=args.child)
            else:
                child = repo.create_child(
                    session=session,
                    display_name=args.name,
                    age=age,
                    age_group=age_group(age) if age is not None else None,
                    caseworker=caseworker,
                    born=born,
                )
                child.team = args.team or (caseworker.team if caseworker else None)
                loop.assign_child(session=session, child=child, caseworker=caseworker, by=None)
        except repo.NotFound as exc:
            return _fail(f"{exc} (add one first: python -m bot caseworker add EMAIL --name NAME)")
        code = invites.new_code()
        invite = repo.create_invite(
            session=session,
            child=child,
            code_hash=invites.code_hash(settings.pseudonym_secret, code),
            ttl=timedelta(days=settings.invite_ttl_days),
        )
        print(f"child {child.id}, invite valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC")
        print(f"web chat: {settings.public_web_url}/chat?code={code}")
        # Telegram only from TELEGRAM_MIN_AGE (16): no link and no QR code below that,
        # or when the age is not known (the bridge refuses such a chat too).
        telegram = child.age is not None and child.age >= settings.telegram_min_age
        if settings.telegram_bot_username and telegram:
            start = code.replace("-", "")
            deep_link = f"https://t.me/{settings.telegram_bot_username}?start={start}"
            print(f"telegram: {deep_link}")
        elif settings.telegram_bot_username:
            print(f"telegram: not offered (from {settings.telegram_min_age}; use the web chat)")
        if args.qr:
            from bot.web.qr import write_invite_qr

            shown = settings if telegram else settings.model_copy(
                update={"telegram_bot_username": None})
            print(f"QR codes: {write_invite_qr(args.qr, settings=shown, code=code)}")
        print(f"the child sends: /start {code}")
        print(code)
    return 0


def _summaries(factory, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    with factory.begin() as session:
        try:
            summaries = repo.list_shared_summaries(
                session=session, caseworker_email=args.caseworker
            )
        except repo.NotFound as exc:
            return _fail(str(exc))
        if not summaries:
            print("Er zijn nog geen gedeelde samenvattingen.")
        for summary in summaries:
            child = summary.child_id
            when = f"{summary.created_at:%Y-%m-%d %H:%M} UTC"
            print(f"--- samenvatting {summary.id} | kind {child} | {when}")
            print(summary.body)
    return 0
