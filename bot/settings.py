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
    # Telegram webhook mode: PTB's webhook server listens on loopback on this port,
    # behind a reverse proxy that serves TELEGRAM_WEBHOOK_URL.
    telegram_webhook_port: int = 8443
    # Seconds between attempts to hand kept messages to Rasa after it was down.
    telegram_retry_seconds: float = 10.0
    # Privacy (docs/privacy.md): tracker events older than this are purged; a closed
    # case's data is erased this long after `python -m bot close`.
    tracker_retention_days: int = 90
    closed_case_retention_days: int = 90
    # Invite codes: failed /start attempts allowed per chat and in total, per window.
    link_failures_per_chat: int = 5
    link_failures_overall: int = 100
    link_window_minutes: int = 15
    # Safeguarding alerts (bot/safety): e-mail through SMTP (SMTP_SECURITY is "starttls",
    # "ssl" or "none"); alarms from chats without a caseworker go to the safeguarding
    # contact; unacknowledged alerts escalate to the team lead after this many minutes.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "mijnstem@localhost"
    smtp_security: str = "starttls"
    safeguarding_contact_email: str | None = None
    team_lead_email: str | None = None
    alert_escalation_minutes: int = 30
    # The answer loop (bot/storage/loop.py): open a shared item within this many Dutch
    # working days, answer within that many; overdue answers go to the team lead.
    followup_open_days: int = 2
    followup_answer_days: int = 10
    # Seconds between the Telegram bridge's checks for answers to deliver at once.
    followup_delivery_seconds: float = 3.0
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


def _choice(
    environ: dict[str, str] | os._Environ[str], name: str, allowed: tuple[str, ...], default: str
) -> str:
    value = (environ.get(name) or default).strip().lower()
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


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
        telegram_webhook_port=_int(env_vars, "TELEGRAM_WEBHOOK_PORT", 8443),
        telegram_retry_seconds=float(env_vars.get("TELEGRAM_RETRY_SECONDS") or 10),
        public_web_url=env_vars.get("PUBLIC_WEB_URL", f"http://{host}:{web_port}"),
        tracker_db_url=env_vars.get("TRACKER_DB_URL")
        or f"sqlite:///{var_dir / 'rasa-tracker.db'}",
        tracker_retention_days=_int(env_vars, "MIJNSTEM_TRACKER_RETENTION_DAYS", 90),
        closed_case_retention_days=_int(env_vars, "MIJNSTEM_CLOSED_CASE_RETENTION_DAYS", 90),
        link_failures_per_chat=_int(env_vars, "MIJNSTEM_LINK_FAILURES_PER_CHAT", 5),
        link_failures_overall=_int(env_vars, "MIJNSTEM_LINK_FAILURES_OVERALL", 100),
        link_window_minutes=_int(env_vars, "MIJNSTEM_LINK_WINDOW_MINUTES", 15),
        smtp_host=env_vars.get("SMTP_HOST") or None,
        smtp_port=_int(env_vars, "SMTP_PORT", 587),
        smtp_user=env_vars.get("SMTP_USER") or None,
        smtp_password=env_vars.get("SMTP_PASSWORD") or None,
        smtp_from=env_vars.get("SMTP_FROM") or "mijnstem@localhost",
        smtp_security=_choice(env_vars, "SMTP_SECURITY", ("starttls", "ssl", "none"), "starttls"),
        safeguarding_contact_email=env_vars.get("SAFEGUARDING_CONTACT_EMAIL") or None,
        team_lead_email=env_vars.get("TEAM_LEAD_EMAIL") or None,
        alert_escalation_minutes=_int(env_vars, "ALERT_ESCALATION_MINUTES", 30),
        followup_open_days=_int(env_vars, "MIJNSTEM_FOLLOWUP_OPEN_DAYS", 2),
        followup_answer_days=_int(env_vars, "MIJNSTEM_FOLLOWUP_ANSWER_DAYS", 10),
        followup_delivery_seconds=float(env_vars.get("MIJNSTEM_FOLLOWUP_DELIVERY_SECONDS") or 3),
    )
