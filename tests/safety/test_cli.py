"""`python -m bot alerts` and `python -m bot ack ID`."""

from __future__ import annotations

import argparse

from bot.cli import main
from bot.safety import alerts
from bot.safety.cli import ack_command, alerts_command
from bot.storage import migrate, repo
from bot.storage.db import make_engine, make_session_factory


def seed(settings) -> tuple[int, int]:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        caseworker = repo.add_caseworker(session=session, email="sanne@test.invalid",
                                         name="Sanne")
        child = repo.create_child(session=session, display_name="Noor", age=9,
                                  age_group="6-9", caseworker=caseworker)
        linked = alerts.create_alert(
            session=session, sender_hash="a" * 64, channel="web", category="physical_abuse",
            excerpt_text="papa slaat me", child_id=child.id, caseworker_id=caseworker.id).id
        unlinked = alerts.create_alert(
            session=session, sender_hash="b" * 64, channel="tg", category="suicide",
            excerpt_text=None, child_id=None, caseworker_id=None).id
    engine.dispose()
    return linked, unlinked


def test_alerts_and_ack(settings, capsys):
    linked, unlinked = seed(settings)
    assert alerts_command(settings, argparse.Namespace(all=False)) == 0
    out = capsys.readouterr().out
    assert f"alert {linked} | OPEN | physical_abuse" in out
    assert "child" in out and "Noor" in out and "words: papa slaat me" in out
    assert f"alert {unlinked} | OPEN | suicide" in out and "unlinked chat bbbbbbbb" in out

    assert ack_command(settings, argparse.Namespace(alert_id=linked, by="sanne@test.invalid")) == 0
    assert f"alert {linked} acknowledged by sanne@test.invalid" in capsys.readouterr().out
    assert ack_command(settings, argparse.Namespace(alert_id=linked, by="x@test.invalid")) == 0
    assert "already acknowledged" in capsys.readouterr().out

    alerts_command(settings, argparse.Namespace(all=False))
    out = capsys.readouterr().out
    assert f"alert {linked} " not in out and f"alert {unlinked} " in out
    alerts_command(settings, argparse.Namespace(all=True))
    assert f"alert {linked} | ACKNOWLEDGED" in capsys.readouterr().out


def test_ack_of_an_unknown_alert_fails(settings, capsys):
    seed(settings)
    assert ack_command(settings, argparse.Namespace(alert_id=999, by="x")) == 2
    assert "no alert with id 999" in capsys.readouterr().err


def test_the_cli_parser_reaches_the_commands(settings, monkeypatch, capsys):
    linked, _ = seed(settings)
    monkeypatch.setenv("MIJNSTEM_ENV", "development")
    monkeypatch.setenv("MIJNSTEM_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["ack", str(linked), "--by", "teamleider@test.invalid"]) == 0
    assert main(["alerts", "--all"]) == 0
    assert "ACKNOWLEDGED" in capsys.readouterr().out
