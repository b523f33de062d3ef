"""The database commands of `python -m bot` (migrate, caseworker, invite, summaries).

Imported by bot/cli.py only when one of them runs, so that `--help` and the commands
that live elsewhere do not load SQLAlchemy, Alembic and argon2."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from bot import accounts
from bot.age import MAX_AGE, MIN_AGE, age_group, age_on, born_from_age, parse_born
from bot.cli import fail
from bot.notify import templates
from bot.settings import Settings
from bot.storage import loop, migrate, repo
from bot.storage.db import make_engine, make_session_factory


def database_command(args: argparse.Namespace, settings: Settings) -> int:
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
    return fail(f"unknown command {args.command}")


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
        return fail(str(exc))
    except IntegrityError:
        return fail(f"a caseworker with email {args.email} already exists")
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
            return fail(f"no caseworker with email {args.email}")
        password = _read_password()
        if password is None:
            return fail("the two passwords differ; nothing changed")
        try:
            accounts.set_password(session=session, account=account, password=password)
        except accounts.AccountError as exc:
            return fail(str(exc))
        print(f"password set for {account.email}")
    return 0


def _invite(factory, settings: Settings, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    if args.age is not None and args.born is not None:
        return fail("give --age or --born, not both")
    if args.age is not None and not MIN_AGE <= args.age <= MAX_AGE:
        return fail(f"--age must be between {MIN_AGE} and {MAX_AGE}")
    born = born_from_age(args.age) if args.age is not None else None
    age = args.age
    if args.born is not None:
        try:
            year, month = parse_born(args.born)
        except ValueError:
            return fail("--born must be a year and month: YYYY-MM")
        born = f"{year:04d}-{month:02d}"
        age = age_on(born)
        if not MIN_AGE <= age <= MAX_AGE:
            return fail(f"--born gives age {age}; it must be between {MIN_AGE} and {MAX_AGE}")
    if args.qr and not Path(args.qr).resolve().parent.is_dir():
        return fail(f"--qr: the folder of {args.qr} does not exist")
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
            return fail(f"{exc} (add one first: python -m bot caseworker add EMAIL --name NAME)")
        code, invite = repo.issue_invite(
            session=session,
            child=child,
            secret=settings.pseudonym_secret,
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
            return fail(str(exc))
        # Caseworker-facing Dutch: the words live in the template.
        print(templates.render("cli/summaries.txt", summaries=summaries))
    return 0
