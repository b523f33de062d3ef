"""One settings object, read from the environment once at process start.

Secrets have no defaults, except in development mode (MIJNSTEM_ENV=development, the
default for `make run` and the tests), where they are generated once and kept in
`var/dev-secrets.json` so that a restart can still read what was encrypted before.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


def _dev_secrets(var_dir: Path) -> dict[str, str]:
    path = var_dir / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    var_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "MIJNSTEM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "MIJNSTEM_PSEUDONYM_SECRET": secrets.token_urlsafe(32),
        "MIJNSTEM_WEB_SECRET": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


@dataclass(frozen=True)
class Settings:
    env: str
    var_dir: Path
    database_url: str
    rasa_url: str
    rasa_port: int
    action_port: int
    web_port: int
    host: str
    # Fernet keys, newest first; older keys still decrypt (see ARCHITECTURE.md, key rotation).
    encryption_keys: tuple[str, ...]
    pseudonym_secret: str
    web_secret: str
    invite_ttl_days: int
    telegram_bot_token: str | None
    telegram_base_url: str | None
    telegram_webhook_url: str | None
    telegram_webhook_secret: str | None
    telegram_bot_username: str | None
    public_web_url: str
    tracker_db_url: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def rasa_webhook_url(self) -> str:
        return f"{self.rasa_url.rstrip('/')}/webhooks/rest/webhook"


def _int(environ: dict[str, str] | os._Environ[str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def load_settings(environ: dict[str, str] | os._Environ[str] | None = None) -> Settings:
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("MIJNSTEM_ENV", "development")
    var_dir = Path(env_vars.get("MIJNSTEM_VAR_DIR", str(PROJECT_ROOT / "var")))

    def secret(name: str) -> str:
        value = env_vars.get(name)
        if value:
            return value
        if env == "development":
            return _dev_secrets(var_dir)[name]
        raise SettingsError(f"{name} must be set when MIJNSTEM_ENV={env}")

    rasa_port = _int(env_vars, "RASA_PORT", 5005)
    host = env_vars.get("MIJNSTEM_HOST", "127.0.0.1")
    keys = tuple(k.strip() for k in secret("MIJNSTEM_ENCRYPTION_KEYS").split(",") if k.strip())
    if not keys:
        raise SettingsError("MIJNSTEM_ENCRYPTION_KEYS holds no key")
    web_port = _int(env_vars, "WEB_PORT", 8000)
    return Settings(
        env=env,
        var_dir=var_dir,
        database_url=env_vars.get("DATABASE_URL") or f"sqlite:///{var_dir / 'mijnstem.db'}",
        rasa_url=env_vars.get("RASA_URL", f"http://{host}:{rasa_port}"),
        rasa_port=rasa_port,
        action_port=_int(env_vars, "ACTION_PORT", 5055),
        web_port=web_port,
        host=host,
        encryption_keys=keys,
        pseudonym_secret=secret("MIJNSTEM_PSEUDONYM_SECRET"),
        web_secret=secret("MIJNSTEM_WEB_SECRET"),
        invite_ttl_days=_int(env_vars, "INVITE_TTL_DAYS", 14),
        telegram_bot_token=env_vars.get("TELEGRAM_BOT_TOKEN") or None,
        telegram_base_url=env_vars.get("TELEGRAM_BASE_URL") or None,
        telegram_webhook_url=env_vars.get("TELEGRAM_WEBHOOK_URL") or None,
        telegram_webhook_secret=env_vars.get("TELEGRAM_WEBHOOK_SECRET") or None,
        telegram_bot_username=env_vars.get("TELEGRAM_BOT_USERNAME") or None,
        public_web_url=env_vars.get("PUBLIC_WEB_URL", f"http://{host}:{web_port}"),
        tracker_db_url=env_vars.get("TRACKER_DB_URL")
        or f"sqlite:///{var_dir / 'rasa-tracker.db'}",
    )
