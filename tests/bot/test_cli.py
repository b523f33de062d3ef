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
