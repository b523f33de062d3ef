"""One settings object, read from the environment (and `.env`) once at process start.

Fail closed: `MIJNSTEM_ENV` defaults to production, where every secret must be set and
at least 32 bytes long, `PUBLIC_WEB_URL` must be https and SMTP must be encrypted. Only
in development (`MIJNSTEM_ENV=development`, which `make install` writes into a new
`.env` on a developer's checkout) are secrets generated once and kept in
`var/dev-secrets.json` (mode 0600), so that a restart can still read what was
encrypted before.

`Settings` never shows a secret in its repr. Tests and the process supervisor pass an
explicit mapping to `load_settings(environ)`; then neither the process environment nor
`.env` is read.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.storage.files import ensure_private_dir, write_private_file

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Rasa and the action server listen here, always (bot/stack.py).
LOOPBACK = "127.0.0.1"
ENV_FILE = PROJECT_ROOT / ".env"
DEVELOPMENT = "development"
# Secrets outside development: at least this many bytes.
MIN_SECRET_BYTES = 32
# Generated in development, required elsewhere.
_SECRET_NAMES = (
    "MIJNSTEM_ENCRYPTION_KEYS",
    "MIJNSTEM_PSEUDONYM_SECRET",
    "MIJNSTEM_WEB_SECRET",
    "MIJNSTEM_ACTION_SECRET",
)


# Set while `load_settings` reads an explicit mapping: then only that mapping counts.
_ONLY_GIVEN: ContextVar[bool] = ContextVar("mijnstem_settings_only_given", default=False)


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


def _generate(name: str) -> str:
    if name == "MIJNSTEM_ENCRYPTION_KEYS":
        return Fernet.generate_key().decode()
    return secrets.token_urlsafe(32)


def _dev_secrets(var_dir: Path) -> dict[str, str]:
    """Development secrets, generated once. The file is created with mode 0600 (never
    readable by others, not even for a moment) and missing entries are added."""
    ensure_private_dir(var_dir)
    path = var_dir / "dev-secrets.json"
    values: dict[str, str] = {}
    if path.exists():
        values = json.loads(path.read_text())
        path.chmod(0o600)
    missing = [name for name in _SECRET_NAMES if not values.get(name)]
    if missing:
        values.update({name: _generate(name) for name in missing})
        write_private_file(path, json.dumps(values, indent=2))
    return values


def _env(name: str, *more: str) -> Any:
    """A field read from the environment variable `name` (the first that is set)."""
    return AliasChoices(name, *more)


def _secret(name: str) -> Any:
    return Field(default=None, validation_alias=_env(name), repr=False)


class Settings(BaseSettings):
    """Everything configurable, one attribute per environment variable."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        case_sensitive=True,
        # Secrets default to None and are filled in (or refused) by `_complete`.
        validate_default=False,
    )

    env: str = Field(default="production", validation_alias=_env("MIJNSTEM_ENV"))
    var_dir: Path = Field(default=PROJECT_ROOT / "var", validation_alias=_env("MIJNSTEM_VAR_DIR"))
    # May hold a password: kept out of the repr.
    database_url: str = Field(default="", validation_alias=_env("DATABASE_URL"), repr=False)
    tracker_db_url: str = Field(default="", validation_alias=_env("TRACKER_DB_URL"), repr=False)
    rasa_url: str = Field(default="", validation_alias=_env("RASA_URL"))
    rasa_port: int = Field(default=5005, validation_alias=_env("RASA_PORT"))
    action_port: int = Field(default=5055, validation_alias=_env("ACTION_PORT"))
    # The web app has its own interface (behind a reverse proxy in production).
    web_host: str = Field(default="127.0.0.1", validation_alias=_env("WEB_HOST"))
    web_port: int = Field(default=8000, validation_alias=_env("WEB_PORT"))
    public_web_url: str = Field(default="", validation_alias=_env("PUBLIC_WEB_URL"))

    # Fernet keys, newest first; older keys still decrypt (docs/privacy.md, rotation).
    # Comma-separated in the environment.
    encryption_keys_raw: str | None = _secret("MIJNSTEM_ENCRYPTION_KEYS")
    pseudonym_secret: str = _secret("MIJNSTEM_PSEUDONYM_SECRET")
    web_secret: str = _secret("MIJNSTEM_WEB_SECRET")
    # Rasa sends it to the action server in a header; the action server refuses
    # requests without it (bot/action_server.py).
    action_secret: str = _secret("MIJNSTEM_ACTION_SECRET")
    invite_ttl_days: int = Field(default=14, validation_alias=_env("INVITE_TTL_DAYS"))

    telegram_bot_token: str | None = _secret("TELEGRAM_BOT_TOKEN")
    telegram_base_url: str | None = Field(default=None, validation_alias=_env("TELEGRAM_BASE_URL"))
    telegram_webhook_url: str | None = Field(
        default=None, validation_alias=_env("TELEGRAM_WEBHOOK_URL"))
    telegram_webhook_secret: str | None = _secret("TELEGRAM_WEBHOOK_SECRET")
    telegram_bot_username: str | None = Field(
        default=None, validation_alias=_env("TELEGRAM_BOT_USERNAME"))
    # Telegram webhook mode: PTB's webhook server listens on loopback on this port,
    # behind a reverse proxy that serves TELEGRAM_WEBHOOK_URL.
    telegram_webhook_port: int = Field(default=8443, validation_alias=_env("TELEGRAM_WEBHOOK_PORT"))
    # Seconds between attempts to hand kept messages to Rasa after it was down.
    telegram_retry_seconds: float = Field(
        default=10.0, validation_alias=_env("TELEGRAM_RETRY_SECONDS"))
    # Kept messages while Rasa is down: at most this many per chat and in total (the
    # oldest are kept; a flood cannot fill the disk).
    telegram_pending_per_chat: int = Field(
        default=50, validation_alias=_env("TELEGRAM_PENDING_PER_CHAT"))
    telegram_pending_total: int = Field(
        default=5000, validation_alias=_env("TELEGRAM_PENDING_TOTAL"))
    # Per-chat state the bridge keeps in memory (locks, "busy" notes): at most this
    # many chats; idle ones are forgotten first.
    telegram_max_chats_in_memory: int = Field(
        default=10_000, validation_alias=_env("TELEGRAM_MAX_CHATS_IN_MEMORY"))
    # Telegram is offered to children of this age and older (docs/telegram.md).
    telegram_min_age: int = Field(default=16, validation_alias=_env("TELEGRAM_MIN_AGE"))
    # A kept message Rasa answered with an error this many times is given up, so that
    # one bad message cannot block a chat for ever.
    telegram_rasa_attempts: int = Field(
        default=5, ge=1, validation_alias=_env("TELEGRAM_RASA_ATTEMPTS"))
    # Seconds to wait before sending a reply again after a network error or a RetryAfter
    # the rate limiter did not absorb; one more try than there are waits. Comma-separated
    # in the environment.
    telegram_send_retry_delays: Annotated[tuple[float, ...], NoDecode] = Field(
        default=(1.0, 3.0, 10.0, 30.0), validation_alias=_env("TELEGRAM_SEND_RETRY_DELAYS"))
    # How often PTB's rate limiter retries a request Telegram answered with RetryAfter.
    telegram_rate_limit_retries: int = Field(
        default=5, ge=0, validation_alias=_env("TELEGRAM_RATE_LIMIT_RETRIES"))

    # The web chat's limits (docs/web-chat.md): messages per chat and per minute,
    # attempts to start (enter a code) per client address and per minute, and the
    # longest message (at most the 4000 characters Rasa's channel keeps).
    web_messages_per_minute: int = Field(
        default=20, ge=1, validation_alias=_env("WEB_MESSAGES_PER_MINUTE"))
    web_starts_per_minute: int = Field(
        default=10, ge=1, validation_alias=_env("WEB_STARTS_PER_MINUTE"))
    web_max_message_chars: int = Field(
        default=4000, ge=1, le=4000, validation_alias=_env("WEB_MAX_MESSAGE_CHARS"))

    # Privacy (docs/privacy.md): tracker events older than this are purged; a closed
    # case's data is erased this long after `python -m bot close`; alerts are deleted
    # this long after they were acknowledged (or created, when never acknowledged).
    tracker_retention_days: int = Field(
        default=90, validation_alias=_env("MIJNSTEM_TRACKER_RETENTION_DAYS"))
    closed_case_retention_days: int = Field(
        default=90, validation_alias=_env("MIJNSTEM_CLOSED_CASE_RETENTION_DAYS"))
    alert_retention_days: int = Field(
        default=365, validation_alias=_env("MIJNSTEM_ALERT_RETENTION_DAYS"))
    # Invite codes: failed attempts allowed per chat and in total, per window; a chat,
    # Telegram user or IP address that keeps failing waits twice as long each time
    # (bot/privacy/link_limits.py).
    link_failures_per_chat: int = Field(
        default=5, validation_alias=_env("MIJNSTEM_LINK_FAILURES_PER_CHAT"))
    link_failures_overall: int = Field(
        default=100, validation_alias=_env("MIJNSTEM_LINK_FAILURES_OVERALL"))
    link_window_minutes: int = Field(
        default=15, validation_alias=_env("MIJNSTEM_LINK_WINDOW_MINUTES"))
    link_max_backoff_minutes: int = Field(
        default=24 * 60, validation_alias=_env("MIJNSTEM_LINK_MAX_BACKOFF_MINUTES"))

    # Safeguarding alerts (bot/safety): e-mail through SMTP (SMTP_SECURITY is "starttls",
    # "ssl" or "none"; "none" only in development); alarms from chats without a
    # caseworker go to the safeguarding contact; unacknowledged alerts escalate to the
    # team lead after this many minutes.
    smtp_host: str | None = Field(default=None, validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(default=587, validation_alias=_env("SMTP_PORT"))
    smtp_user: str | None = Field(default=None, validation_alias=_env("SMTP_USER"))
    smtp_password: str | None = _secret("SMTP_PASSWORD")
    smtp_from: str = Field(default="mijnstem@localhost", validation_alias=_env("SMTP_FROM"))
    smtp_security: str = Field(default="starttls", validation_alias=_env("SMTP_SECURITY"))
    safeguarding_contact_email: str | None = Field(
        default=None, validation_alias=_env("SAFEGUARDING_CONTACT_EMAIL"))
    team_lead_email: str | None = Field(default=None, validation_alias=_env("TEAM_LEAD_EMAIL"))
    alert_escalation_minutes: int = Field(
        default=30, validation_alias=_env("ALERT_ESCALATION_MINUTES"))
    # Alarms from chats not linked to a child: at most this many notifications per
    # hour; the rest are stored and listed by `python -m bot alerts` (one digest
    # notice says how many were held back).
    unlinked_alerts_per_hour: int = Field(
        default=10, validation_alias=_env("MIJNSTEM_UNLINKED_ALERTS_PER_HOUR"))
    # The answer loop (bot/storage/loop.py): open a shared item within this many Dutch
    # working days, answer within that many; overdue answers go to the team lead.
    followup_open_days: int = Field(
        default=2, validation_alias=_env("MIJNSTEM_FOLLOWUP_OPEN_DAYS"))
    followup_answer_days: int = Field(
        default=10, validation_alias=_env("MIJNSTEM_FOLLOWUP_ANSWER_DAYS"))
    # Seconds between the Telegram bridge's checks for answers to deliver at once.
    followup_delivery_seconds: float = Field(
        default=3.0, validation_alias=_env("MIJNSTEM_FOLLOWUP_DELIVERY_SECONDS"))
    # Shared state for several processes per service (docs/deploy.md): Rasa's lock store,
    # rate limits and the Telegram update dedupe. None: in memory, one process each.
    redis_url: str | None = Field(default=None, validation_alias=_env("REDIS_URL"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if _ONLY_GIVEN.get():
            return (init_settings,)
        return (init_settings, env_settings, dotenv_settings)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        """An empty variable (`SMTP_HOST=` in .env) means: not set."""
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    @field_validator("telegram_send_retry_delays", mode="before")
    @classmethod
    def _delays(cls, value: Any) -> Any:
        """`1,3,10,30` in the environment; every wait at least 0."""
        if isinstance(value, str):
            try:
                value = tuple(float(part) for part in value.split(",") if part.strip())
            except ValueError:
                raise ValueError("TELEGRAM_SEND_RETRY_DELAYS: seconds, comma-separated") from None
        if isinstance(value, (tuple, list)) and any(float(v) < 0 for v in value):
            raise ValueError("TELEGRAM_SEND_RETRY_DELAYS: no negative waits")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Settings:
        set_ = object.__setattr__  # frozen: fill in derived defaults once, here
        set_(self, "env", self.env.strip().lower())
        if self.is_development:
            generated = None
            for name, attr in (
                ("MIJNSTEM_ENCRYPTION_KEYS", "encryption_keys_raw"),
                ("MIJNSTEM_PSEUDONYM_SECRET", "pseudonym_secret"),
                ("MIJNSTEM_WEB_SECRET", "web_secret"),
                ("MIJNSTEM_ACTION_SECRET", "action_secret"),
            ):
                if not getattr(self, attr):
                    generated = generated or _dev_secrets(self.var_dir)
                    set_(self, attr, generated[name])
        else:
            missing = [
                name
                for name, attr in (
                    ("MIJNSTEM_ENCRYPTION_KEYS", "encryption_keys_raw"),
                    ("MIJNSTEM_PSEUDONYM_SECRET", "pseudonym_secret"),
                    ("MIJNSTEM_WEB_SECRET", "web_secret"),
                    ("MIJNSTEM_ACTION_SECRET", "action_secret"),
                )
                if not getattr(self, attr)
            ]
            if missing:
                raise ValueError(
                    f"{', '.join(missing)} must be set when MIJNSTEM_ENV={self.env} "
                    f"(only MIJNSTEM_ENV={DEVELOPMENT} generates secrets)"
                )
        if not self.encryption_keys:
            raise ValueError("MIJNSTEM_ENCRYPTION_KEYS holds no key")
        for key in self.encryption_keys:
            try:
                Fernet(key.encode())
            except ValueError:
                raise ValueError(
                    "MIJNSTEM_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe "
                    "base64-encoded bytes each)"
                ) from None
        security = self.smtp_security.strip().lower()
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"SMTP_SECURITY must be one of starttls, ssl, none, got {security!r}")
        set_(self, "smtp_security", security)
        if not self.database_url:
            set_(self, "database_url", f"sqlite:///{self.var_dir / 'mijnstem.db'}")
        if not self.tracker_db_url:
            set_(self, "tracker_db_url", f"sqlite:///{self.var_dir / 'rasa-tracker.db'}")
        if not self.rasa_url:
            set_(self, "rasa_url", f"http://{LOOPBACK}:{self.rasa_port}")
        if not self.public_web_url:
            set_(self, "public_web_url", f"http://{self.web_host}:{self.web_port}")
        if not self.is_development:
            self._check_production()
        return self

    def _check_production(self) -> None:
        short = [
            name
            for name, value in (
                ("MIJNSTEM_PSEUDONYM_SECRET", self.pseudonym_secret),
                ("MIJNSTEM_WEB_SECRET", self.web_secret),
                ("MIJNSTEM_ACTION_SECRET", self.action_secret),
                ("TELEGRAM_WEBHOOK_SECRET", self.telegram_webhook_secret),
            )
            if value is not None and len(value.encode()) < MIN_SECRET_BYTES
        ]
        if short:
            raise ValueError(
                f"{', '.join(short)} must be at least {MIN_SECRET_BYTES} bytes when "
                f"MIJNSTEM_ENV={self.env} (e.g. python -c \"import secrets; "
                f"print(secrets.token_urlsafe(32))\")"
            )
        if not self.public_web_url.startswith("https://"):
            raise ValueError(f"PUBLIC_WEB_URL must be an https:// address when "
                             f"MIJNSTEM_ENV={self.env}")
        if self.smtp_security == "none":
            raise ValueError(f"SMTP_SECURITY=none is only allowed in development "
                             f"(MIJNSTEM_ENV={self.env})")

    @property
    def host(self) -> str:
        """Where Rasa and the action server listen: loopback, not configurable."""
        return LOOPBACK

    @property
    def encryption_keys(self) -> tuple[str, ...]:
        raw = self.encryption_keys_raw or ""
        return tuple(k.strip() for k in raw.split(",") if k.strip())

    @property
    def is_development(self) -> bool:
        return self.env == DEVELOPMENT

    @property
    def rasa_webhook_url(self) -> str:
        return f"{self.rasa_url.rstrip('/')}/webhooks/rest/webhook"


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from `environ`, or from the process environment and `.env`.

    Raises SettingsError with a message for the operator when something is missing or
    unsafe (outside development)."""
    try:
        if environ is None:
            # MIJNSTEM_ENV_FILE names another file; empty: none (the tests, so that a
            # developer's own .env cannot leak into them).
            env_file = os.environ.get("MIJNSTEM_ENV_FILE", str(ENV_FILE))
            return Settings(_env_file=env_file or None)  # type: ignore[call-arg]
        token = _ONLY_GIVEN.set(True)
        try:
            given: dict[str, Any] = dict(environ)
            return Settings(**given)
        finally:
            _ONLY_GIVEN.reset(token)
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


__all__ = ["PROJECT_ROOT", "Settings", "SettingsError", "load_settings"]
