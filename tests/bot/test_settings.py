"""Settings fail closed: production is the default, secrets must be set and long, the
web address must be https, and nothing secret shows in a repr. Files are private."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.settings import PROJECT_ROOT, Settings, SettingsError, load_settings
from bot.storage.db import make_engine
from tests.conftest import make_test_env

APP_PYTHON = str(PROJECT_ROOT / ".venv" / "bin" / "python")


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "MIJNSTEM_ENV": "production",
        "MIJNSTEM_VAR_DIR": str(tmp_path / "var"),
        "MIJNSTEM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "MIJNSTEM_PSEUDONYM_SECRET": "p" * 40,
        "MIJNSTEM_WEB_SECRET": "w" * 40,
        "MIJNSTEM_ACTION_SECRET": "a" * 40,
        "PUBLIC_WEB_URL": "https://mijnstem.example.org",
    }
    env.update(extra)
    return env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_production_is_the_default_and_needs_every_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"MIJNSTEM_VAR_DIR": str(tmp_path / "var")})
    message = str(err.value)
    for name in ("MIJNSTEM_ENCRYPTION_KEYS", "MIJNSTEM_PSEUDONYM_SECRET",
                 "MIJNSTEM_WEB_SECRET", "MIJNSTEM_ACTION_SECRET"):
        assert name in message
    assert "MIJNSTEM_ENV=production" in message
    # Nothing was generated on the way.
    assert not (tmp_path / "var" / "dev-secrets.json").exists()


def test_a_complete_production_configuration_loads(tmp_path: Path) -> None:
    settings = load_settings(production_env(tmp_path))
    assert settings.env == "production" and not settings.is_development
    assert settings.pseudonym_secret == "p" * 40


@pytest.mark.parametrize("name", ["MIJNSTEM_PSEUDONYM_SECRET", "MIJNSTEM_WEB_SECRET",
                                  "MIJNSTEM_ACTION_SECRET", "TELEGRAM_WEBHOOK_SECRET"])
def test_short_secrets_are_refused_outside_development(tmp_path: Path, name: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be at least 32 bytes"):
        load_settings(production_env(tmp_path, **{name: "x" * 31}))


def test_the_public_web_address_must_be_https(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PUBLIC_WEB_URL must be an https"):
        load_settings(production_env(tmp_path, PUBLIC_WEB_URL="http://mijnstem.example.org"))


def test_unencrypted_smtp_only_in_development(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SMTP_SECURITY=none"):
        load_settings(production_env(tmp_path, SMTP_SECURITY="none"))
    dev = load_settings(make_test_env(tmp_path / "var", SMTP_SECURITY="none"))
    assert dev.smtp_security == "none"


def test_keys_must_be_fernet_keys(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="Fernet keys"):
        load_settings(production_env(tmp_path, MIJNSTEM_ENCRYPTION_KEYS="not-a-key"))


def test_repr_shows_no_secret(tmp_path: Path) -> None:
    env = production_env(
        tmp_path, TELEGRAM_BOT_TOKEN="123:telegram-token-value", SMTP_PASSWORD="smtp-pass-value",
        TELEGRAM_WEBHOOK_SECRET="h" * 40,
        DATABASE_URL="postgresql://mijnstem:db-pass-value@127.0.0.1/mijnstem",
    )
    settings = load_settings(env)
    shown = repr(settings) + str(settings)
    for secret in ("p" * 40, "w" * 40, "a" * 40, "h" * 40, env["MIJNSTEM_ENCRYPTION_KEYS"],
                   "telegram-token-value", "smtp-pass-value", "db-pass-value"):
        assert secret not in shown
    assert "production" in shown  # the repr still says something useful


def test_settings_read_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MIJNSTEM_ENV", "MIJNSTEM_VAR_DIR", "MIJNSTEM_ENCRYPTION_KEYS",
                 "MIJNSTEM_PSEUDONYM_SECRET", "MIJNSTEM_WEB_SECRET", "MIJNSTEM_ACTION_SECRET"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(f"MIJNSTEM_ENV=development\nMIJNSTEM_VAR_DIR={tmp_path / 'var'}\n"
                        "SMTP_HOST=\n")
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.is_development
    assert settings.var_dir == tmp_path / "var"
    assert settings.smtp_host is None  # an empty line means: not set


def test_a_production_start_without_secrets_refuses_to_run(tmp_path: Path) -> None:
    env = {k: v for k, v in make_test_env(tmp_path / "var").items()
           if k not in ("MIJNSTEM_ENCRYPTION_KEYS", "MIJNSTEM_PSEUDONYM_SECRET",
                        "MIJNSTEM_WEB_SECRET", "MIJNSTEM_ACTION_SECRET")}
    env["MIJNSTEM_ENV"] = "production"
    result = subprocess.run([APP_PYTHON, "-m", "bot", "migrate"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "error: MIJNSTEM_ENCRYPTION_KEYS" in result.stderr
    assert "must be set when MIJNSTEM_ENV=production" in result.stderr
    assert not (tmp_path / "var" / "mijnstem.db").exists()


def test_development_files_are_private_from_the_start(tmp_path: Path) -> None:
    var = tmp_path / "var"
    settings = load_settings(make_test_env(var))
    assert mode(var) == 0o700
    secrets_file = var / "dev-secrets.json"
    assert mode(secrets_file) == 0o600
    # Loaded again: the same secrets, the file untouched.
    again = load_settings(make_test_env(var))
    assert again.pseudonym_secret == settings.pseudonym_secret
    assert again.action_secret == settings.action_secret
    engine = make_engine(settings)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    database = var / "mijnstem.db"
    assert mode(database) == 0o600
    for extra in (var / "mijnstem.db-wal", var / "mijnstem.db-shm"):
        if extra.exists():
            assert mode(extra) == 0o600
    engine.dispose()


def test_an_older_dev_secrets_file_gains_the_new_secret_privately(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    old = var / "dev-secrets.json"
    old.write_text(json.dumps({"MIJNSTEM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                               "MIJNSTEM_PSEUDONYM_SECRET": "old", "MIJNSTEM_WEB_SECRET": "web"}))
    old.chmod(0o644)
    settings = load_settings(make_test_env(var))
    assert settings.pseudonym_secret == "old" and settings.action_secret
    assert mode(var) == 0o700 and mode(old) == 0o600


def test_the_env_file_can_be_switched_off(tmp_path: Path) -> None:
    """MIJNSTEM_ENV_FILE empty: no .env is read (the tests set it)."""
    env_file = tmp_path / "dotenv"
    env_file.write_text("MIJNSTEM_ENV=development\nTELEGRAM_BOT_USERNAME=FromDotEnv\n")
    base = {k: v for k, v in make_test_env(tmp_path / "var").items()}
    script = ("from bot.settings import load_settings; "
              "print(load_settings().telegram_bot_username)")
    for value, expected in ((str(env_file), "FromDotEnv"), ("", "None")):
        result = subprocess.run([APP_PYTHON, "-c", script], cwd=PROJECT_ROOT,
                                env={**base, "MIJNSTEM_ENV_FILE": value},
                                capture_output=True, text=True, timeout=60)
        assert result.stdout.strip() == expected, result.stderr


def test_retry_and_limit_settings_have_the_old_defaults(tmp_path: Path) -> None:
    settings = load_settings(make_test_env(tmp_path / "var"))
    assert settings.telegram_rasa_attempts == 5
    assert settings.telegram_send_retry_delays == (1.0, 3.0, 10.0, 30.0)
    assert settings.telegram_rate_limit_retries == 5
    assert (settings.web_messages_per_minute, settings.web_starts_per_minute) == (20, 10)
    assert settings.web_max_message_chars == 4000


def test_retry_delays_are_comma_separated_in_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MIJNSTEM_ENV", "MIJNSTEM_VAR_DIR", "TELEGRAM_SEND_RETRY_DELAYS",
                 "WEB_STARTS_PER_MINUTE"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(f"MIJNSTEM_ENV=development\nMIJNSTEM_VAR_DIR={tmp_path / 'var'}\n"
                        "TELEGRAM_SEND_RETRY_DELAYS=0.5, 2,5\nWEB_STARTS_PER_MINUTE=4\n")
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.telegram_send_retry_delays == (0.5, 2.0, 5.0)
    assert settings.web_starts_per_minute == 4


@pytest.mark.parametrize("name, value", [
    ("TELEGRAM_SEND_RETRY_DELAYS", "1,soon"),
    ("TELEGRAM_SEND_RETRY_DELAYS", "1,-3"),
    ("TELEGRAM_RASA_ATTEMPTS", "0"),
    ("WEB_MESSAGES_PER_MINUTE", "0"),
    ("WEB_MAX_MESSAGE_CHARS", "4001"),  # Rasa's channel keeps 4000 at most
])
def test_bad_retry_and_limit_settings_are_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(make_test_env(tmp_path / "var", **{name: value}))
    assert name in str(err.value)
