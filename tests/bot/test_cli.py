"""The CLI, run as a real subprocess against a real SQLite file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.conftest import make_test_env


@pytest.fixture
def run_cli(tmp_path: Path):
    env = make_test_env(tmp_path / "var")

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, env=env,
            capture_output=True, text=True, timeout=60,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


def test_invite_prints_the_code_last(run_cli):
    run_cli("caseworker", "add", "sanne@example.org", "--name", "Sanne de Vries")
    out = run_cli("invite", "--age", "8", "--name", "Noor", "--caseworker", "sanne@example.org")
    last = out.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", last)
    # A second invite without age or caseworker works too, with a different code.
    other = run_cli("invite").stdout.strip().splitlines()[-1]
    assert other != last


def test_invite_errors_are_clear(run_cli):
    bad_age = run_cli("invite", "--age", "3", ok=False)
    assert bad_age.returncode == 2 and "--age" in bad_age.stderr
    unknown = run_cli("invite", "--caseworker", "nobody@example.org", ok=False)
    assert unknown.returncode == 2 and "caseworker add" in unknown.stderr
    duplicate = run_cli("caseworker", "add", "a@example.org", "--name", "A")
    assert duplicate.returncode == 0
    again = run_cli("caseworker", "add", "a@example.org", "--name", "A", ok=False)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_summaries_when_empty(run_cli):
    out = run_cli("summaries")
    assert "nog geen gedeelde samenvattingen" in out.stdout


def test_summaries_lists_each_shared_summary_with_its_child(run_cli, tmp_path):
    run_cli("caseworker", "add", "sanne@example.org", "--name", "Sanne")
    run_cli("invite", "--age", "12", "--caseworker", "sanne@example.org")
    from bot.storage import repo
    from bot.storage.db import make_session_factory

    engine, _ = _db(tmp_path)
    with make_session_factory(engine).begin() as session:
        child = repo.get_child(session=session, child_id=1)
        summary = repo.add_shared_summary(session=session, child=child,
                                          body="• vaker bij oma\n• een hond")
        summary_id, when = summary.id, summary.created_at
    engine.dispose()
    out = run_cli("summaries", "--caseworker", "sanne@example.org").stdout
    assert out == (f"--- samenvatting {summary_id} | kind 1 | {when:%Y-%m-%d %H:%M} UTC\n"
                   "• vaker bij oma\n• een hond\n")


def test_dead_database_gets_a_clear_message(run_cli, tmp_path):
    env_url = "postgresql://nobody@127.0.0.1:1/none"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "summaries"], cwd=PROJECT_ROOT,
        env=make_test_env(tmp_path / "var", DATABASE_URL=env_url),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "database cannot be reached" in result.stderr
    assert "Traceback" not in result.stderr


def _db(tmp_path: Path):
    from bot.settings import load_settings
    from bot.storage.db import make_engine

    settings = load_settings(make_test_env(tmp_path / "var"))
    return make_engine(settings), settings


def test_caseworker_add_with_role_and_team_and_password_from_stdin(run_cli, tmp_path):
    out = run_cli("caseworker", "add", "mila@example.org", "--name", "Mila Bos",
                  "--role", "teamlead", "--team", "Noord")
    assert "teamlead" in out.stdout and "team Noord" in out.stdout
    bad_role = run_cli("caseworker", "add", "x@example.org", "--name", "X", "--role", "boss",
                       ok=False)
    assert bad_role.returncode == 2
    env = make_test_env(tmp_path / "var")
    short = subprocess.run([sys.executable, "-m", "bot", "caseworker", "password",
                            "mila@example.org"], cwd=PROJECT_ROOT, env=env, input="kort\n",
                           capture_output=True, text=True, timeout=60)
    assert short.returncode == 2 and "12 characters" in short.stderr
    done = subprocess.run([sys.executable, "-m", "bot", "caseworker", "password",
                           "MILA@example.org"], cwd=PROJECT_ROOT, env=env,
                          input="paard-batterij-nietje\n", capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "paard" not in done.stdout + done.stderr
    unknown = run_cli("caseworker", "password", "nobody@example.org", ok=False)
    assert unknown.returncode == 2

    from bot import accounts

    engine, _ = _db(tmp_path)
    from bot.storage.db import make_session_factory

    with make_session_factory(engine).begin() as session:
        result = accounts.verify_login(session=session, email="mila@example.org",
                                       password="paard-batterij-nietje")
        assert result.ok and result.account is not None
        assert (result.account.role, result.account.team) == ("teamlead", "Noord")
    engine.dispose()


def test_cli_commands_are_in_the_audit_log(run_cli, tmp_path):
    run_cli("caseworker", "add", "sanne@example.org", "--name", "Sanne", "--team", "Noord")
    run_cli("invite", "--age", "12", "--caseworker", "sanne@example.org")
    run_cli("summaries")
    run_cli("export", "1")
    run_cli("export", "99", ok=False)
    run_cli("forget", "1", "--yes")

    from bot import audit
    from bot.storage.db import make_session_factory

    engine, _ = _db(tmp_path)
    with make_session_factory(engine).begin() as session:
        events = list(reversed(audit.list_events(session=session)))
        seen = [(e.action, e.target, e.allowed, e.source) for e in events]
    engine.dispose()
    assert seen == [
        ("cli.caseworker.add", "account:sanne@example.org", True, "cli"),
        ("cli.invite", None, True, "cli"),
        ("cli.summaries", None, True, "cli"),
        ("cli.export", "child:1", True, "cli"),
        ("cli.export", "child:99", False, "cli"),
        ("cli.forget", "child:1", True, "cli"),
    ]
    assert all(e.actor.startswith("cli:") for e in events)


def test_demo_fills_a_development_database_once_and_refuses_production(run_cli, tmp_path):
    out = run_cli("demo")
    assert "DEMO" in out.stdout
    password = out.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    again = run_cli("demo", ok=False)
    assert again.returncode == 1 and "already loaded" in again.stdout

    from bot import accounts
    from bot.loop.figures import team_figures
    from bot.storage import loop
    from bot.storage.db import make_session_factory

    engine, _ = _db(tmp_path)
    with make_session_factory(engine).begin() as session:
        lead = accounts.verify_login(session=session, email="teamleider@demo.mijnstem.invalid",
                                     password=password)
        assert lead.ok and lead.account is not None and lead.account.role == "teamlead"
        children = loop.team_children(session=session, team="Demo-team")
        assert len(children) == 5
        assert all((c.display_name or "").startswith("DEMO ") for c in children)
        assert [c.display_name for c in loop.team_inbox(session=session, team="Demo-team")] == [
            "DEMO Lotte"]
        noor = next(c for c in children if c.display_name == "DEMO Noor")
        assert len(loop.assignment_history(session=session, child_id=noor.id)) == 2
        assert loop.pending_replies(session=session, child_id=noor.id)  # waiting for Noor
        assert loop.overdue_follow_ups(session=session)  # Aylin's second wish
        assert team_figures(session=session, team="Demo-team").active_children is None
    engine.dispose()

    from tests.bot.test_settings import production_env

    env = {**make_test_env(tmp_path / "prod"), **production_env(tmp_path / "prod")}
    refused = subprocess.run([sys.executable, "-m", "bot", "demo"], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "development" in refused.stdout


def test_invite_with_a_birth_month(run_cli):
    out = run_cli("invite", "--born", "2018-03", "--name", "Noor")
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", out.stdout.strip().splitlines()[-1])
    bad = run_cli("invite", "--born", "2018/03", ok=False)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr
    both = run_cli("invite", "--born", "2018-03", "--age", "8", ok=False)
    assert both.returncode == 2 and "not both" in both.stderr
    too_young = run_cli("invite", "--born", "2025-01", ok=False)
    assert too_young.returncode == 2 and "--born" in too_young.stderr


def test_telegram_links_only_from_sixteen(tmp_path: Path):
    env = make_test_env(tmp_path / "var", TELEGRAM_BOT_USERNAME="MijnStemBot")

    def invite(*args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "bot", "invite", *args],
                                cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    for age in ("16", "18"):
        out = invite("--age", age)
        assert "telegram: https://t.me/MijnStemBot?start=" in out and "web chat:" in out
    for args in (("--age", "15"), ("--age", "8"), ()):
        out = invite(*args)
        assert "t.me" not in out and "web chat:" in out, args
        assert "telegram: not offered" in out


def test_help_loads_no_heavy_module(tmp_path: Path) -> None:
    """Each command imports what it needs when it runs: building the parser and printing
    the help loads neither the database layer nor the settings."""
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlalchemy', 'alembic', 'pydantic', 'pydantic_settings', 'argon2',\n"
        "         'bot.settings', 'bot.storage.models')\n"
        "print('loaded:', ','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, env=make_test_env(tmp_path / "var"),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "invite" in result.stdout  # the help was printed
    assert result.stdout.strip().splitlines()[-1] == "loaded:"


def test_checkin_plan_and_list(run_cli):
    child = run_cli("invite", "--age", "9", "--name", "Pim").stdout
    child_id = re.search(r"child (\d+)", child).group(1)  # type: ignore[union-attr]
    assert "no check-ins planned" in run_cli("checkin", "list").stdout
    planned = run_cli("checkin", "plan", "--child", child_id, "--date", "2026-12-14",
                      "--about", "evaluatie zorgplan").stdout
    assert re.search(rf"check-in \d+ for child {child_id} on 2026-12-14", planned)
    listed = run_cli("checkin", "list", "--child", child_id).stdout
    assert f"child {child_id} | 2026-12-14 | planned | evaluatie zorgplan" in listed
    bad_date = run_cli("checkin", "plan", "--child", child_id, "--date", "14-12-2026", ok=False)
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    unknown = run_cli("checkin", "plan", "--child", "999", "--date", "2026-12-14", ok=False)
    assert unknown.returncode == 2
