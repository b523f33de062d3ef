"""Configuration that privacy depends on: cheap checks, no processes started."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.domain import load_domain
from bot.settings import PROJECT_ROOT, Settings
from bot.stack import services, tracker_store_env
from scripts import gen_form_rules

DOMAIN = load_domain()


def _rasa(settings: Settings):
    return next(s for s in services(settings, Path("model.tar.gz")) if s.name == "rasa")


def test_rasa_listens_on_loopback_without_its_http_api(settings: Settings):
    argv = _rasa(settings).argv
    assert argv[argv.index("--interface") + 1] == "127.0.0.1"
    if "--enable-api" in argv:  # only ever with a token or JWT
        assert "--auth-token" in argv or "--jwt-secret" in argv
    action = next(s for s in services(settings, Path("m")) if s.name == "action server")
    assert action.ready_url.startswith("http://127.0.0.1:")


def test_rasa_gets_the_keys_and_quiet_logs(settings: Settings):
    env = _rasa(settings).env
    assert env["MIJNSTEM_ENCRYPTION_KEYS"].split(",") == list(settings.encryption_keys)
    assert env["MIJNSTEM_PSEUDONYM_SECRET"] == settings.pseudonym_secret
    assert env["LOG_LEVEL"] in {"INFO", "WARNING", "ERROR"}
    assert tracker_store_env(settings)["LOG_LEVEL"] != "DEBUG"


def test_rasa_uses_the_encrypted_store_and_the_checked_channel():
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    assert endpoints["tracker_store"]["type"] == "bot.nlu.tracker_store.EncryptedSQLTrackerStore"
    assert endpoints["tracker_store"]["url"] == "${TRACKER_DB_URL}"
    credentials = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text())
    assert "rest" not in credentials, "Rasa's plain REST channel bypasses the checks"
    assert "bot.nlu.channel.MijnStemRestInput" in credentials
    assert not any("api" in str(k).lower() for k in credentials)


def test_vergeet_mij_is_never_taken_as_an_answer():
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot.get("mappings") or []:
            if mapping.get("type") == "from_text":
                assert "forget_me" in (mapping.get("not_intent") or []), name
    assert gen_form_rules.INTERRUPTIONS["forget_me"] == ("leave", ["utter_ask_forget_me"])


def test_vergeet_command_and_sentences_reach_the_intent():
    from bot.chat_commands import parse_command

    assert parse_command("/vergeet") == ("forget_me", None)
    assert parse_command("/vergeet mij") == ("forget_me", None)
    assert parse_command("/wis") == ("forget_me", None)
    nlu = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "privacy.yml").read_text())
    examples = next(i["examples"] for i in nlu["nlu"] if i["intent"] == "forget_me")
    assert "vergeet mij" in examples and "wis al mijn gegevens" in examples


def test_forget_question_offers_yes_and_no_buttons():
    for variant in DOMAIN["responses"]["utter_ask_forget_me"]:
        assert [b["payload"] for b in variant["buttons"]] == ["/affirm", "/deny"]


def test_no_telegram_ids_or_names_in_clear():
    """Columns that could hold a Telegram chat or user id, or a name, are encrypted or
    keyed hashes; the bridge sends Rasa only `tg-` + a keyed hash of the chat id."""
    import re

    from bot.storage.models import Base, EncryptedText
    from bot.telegram.rasa import sender_for_chat

    suspicious = re.compile(r"chat|telegram|user_?name|first_name|last_name|user_id|phone|name")
    clear = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if suspicious.search(column.name) and not column.name.endswith("_hash")
        and not isinstance(column.type, EncryptedText)
    ]
    # Caseworkers' own names are not children's data.
    assert set(clear) <= {"caseworker.name"}, clear
    sender = sender_for_chat("secret", 123456789)
    assert sender.startswith("tg-") and "123456789" not in sender


def test_rasa_gets_only_the_environment_it_needs(settings: Settings):
    rasa = _rasa(settings)
    outside = {
        "PATH": "/usr/bin", "HOME": "/home/x", "DATABASE_URL": "postgresql://u:pw@h/db",
        "TELEGRAM_BOT_TOKEN": "123:abc", "SMTP_PASSWORD": "pw", "MIJNSTEM_WEB_SECRET": "w",
        "AWS_SECRET_ACCESS_KEY": "k",
    }
    env = rasa.process_env(outside)
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/home/x"
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "SMTP_PASSWORD", "MIJNSTEM_WEB_SECRET",
                 "AWS_SECRET_ACCESS_KEY", "MIJNSTEM_VAR_DIR"):
        assert name not in env, name
    assert env["MIJNSTEM_ACTION_SECRET"] == settings.action_secret
    assert env["ACTION_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert set(env) <= {
        "PATH", "HOME", "PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL", "SQLALCHEMY_SILENCE_UBER_WARNING",
        "RASA_TELEMETRY_ENABLED", "ACTION_ENDPOINT_URL", "MIJNSTEM_ACTION_SECRET",
        "TRACKER_DB_URL", "MIJNSTEM_ENCRYPTION_KEYS", "MIJNSTEM_PSEUDONYM_SECRET", "LOG_LEVEL",
    }
    # The other parts still inherit the supervisor's environment.
    action = next(s for s in services(settings, Path("m")) if s.name == "action server")
    assert action.process_env(outside)["DATABASE_URL"] == outside["DATABASE_URL"]


def test_rasa_sends_the_action_secret_header():
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    from bot.action_server import ACTION_SECRET_HEADER

    assert endpoints["action_endpoint"]["headers"] == {
        ACTION_SECRET_HEADER: "${MIJNSTEM_ACTION_SECRET}"
    }


def test_internal_services_bind_to_loopback_whatever_the_web_host(tmp_path: Path):
    from bot.settings import load_settings
    from tests.conftest import make_test_env

    settings = load_settings(make_test_env(tmp_path / "var", WEB_HOST="0.0.0.0",
                                           MIJNSTEM_HOST="0.0.0.0"))
    assert settings.host == "127.0.0.1" and settings.web_host == "0.0.0.0"
    argv = _rasa(settings).argv
    assert argv[argv.index("--interface") + 1] == "127.0.0.1"
    assert settings.rasa_url.startswith("http://127.0.0.1:")
