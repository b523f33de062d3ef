"""`make run`: every part of Mijn Stem on loopback, in the foreground.

Applies migrations, trains a model when needed, starts the action server, Rasa (REST
channel), the web app and, when TELEGRAM_BOT_TOKEN is set, the Telegram bridge.
Ctrl-C (or any part dying) stops all of them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.model import RASA_CLI, ensure_model
from bot.settings import LOOPBACK, PROJECT_ROOT, Settings
from bot.storage import migrate
from bot.storage.db import make_engine

APP_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"


@dataclass
class Service:
    name: str
    argv: list[str]
    port: int | None
    ready_url: str | None
    env: dict[str, str] = field(default_factory=dict)
    # False: the process gets `env` and nothing else of ours (Rasa: no database
    # passwords, bot tokens or SMTP credentials it has no use for).
    inherit_env: bool = True
    process: subprocess.Popen[bytes] | None = None

    def process_env(self, base: dict[str, str] | os._Environ[str]) -> dict[str, str]:
        """The environment to start this part with, given the supervisor's."""
        inherited = dict(base) if self.inherit_env else {
            name: base[name] for name in PASSED_TO_RASA if name in base
        }
        return {**inherited, **self.env}


# What Rasa may take from the supervisor's environment besides what `rasa_serve_env` sets.
PASSED_TO_RASA = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER")


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def rasa_tracker_url(settings: Settings) -> str:
    url = settings.tracker_db_url
    # Rasa's environment has SQLAlchemy 1.4 with psycopg2.
    return url.replace("postgresql+psycopg://", "postgresql://")


def tracker_store_env(settings: Settings) -> dict[str, str]:
    """What Rasa's encrypted tracker store needs: the keys (in development they come
    from var/dev-secrets.json, which only this side reads) and quiet logs: Rasa logs
    message texts at DEBUG, so never lower than INFO here."""
    return {
        "MIJNSTEM_ENCRYPTION_KEYS": ",".join(settings.encryption_keys),
        "MIJNSTEM_PSEUDONYM_SECRET": settings.pseudonym_secret,
        "LOG_LEVEL": "INFO",
    }


def rasa_serve_env(settings: Settings) -> dict[str, str]:
    """Everything Rasa gets from us: where the action server and the tracker store are,
    the tracker store's keys and the action server's shared secret. Nothing else."""
    return {
        "PYTHONPATH": str(PROJECT_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "ACTION_ENDPOINT_URL": f"http://{LOOPBACK}:{settings.action_port}/webhook",
        "MIJNSTEM_ACTION_SECRET": settings.action_secret,
        "TRACKER_DB_URL": rasa_tracker_url(settings),
        # For the encrypted tracker store (bot/nlu/tracker_store.py).
        **tracker_store_env(settings),
        # Rasa's lock store and the REST channel's rate limits (bot/nlu/lock_store.py).
        **({"REDIS_URL": settings.redis_url} if settings.redis_url else {}),
    }


def services(settings: Settings, model: Path) -> list[Service]:
    # Rasa and the action server only ever listen on loopback; the web app on its own
    # WEB_HOST (behind a reverse proxy when that is not loopback).
    host = LOOPBACK
    common = {"MIJNSTEM_VAR_DIR": str(settings.var_dir)}
    parts = [
        Service(
            "action server",
            [str(APP_PYTHON), "-m", "bot", "actions"],
            settings.action_port,
            f"http://{host}:{settings.action_port}/health",
            common,
        ),
        Service(
            "rasa",
            [
                *RASA_CLI,
                "run",
                "--model",
                str(model),
                "--interface",
                host,
                "--port",
                str(settings.rasa_port),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],
            settings.rasa_port,
            f"http://{host}:{settings.rasa_port}/webhooks/rest/",
            rasa_serve_env(settings),
            inherit_env=False,
        ),
    ]
    parts.append(Service("worker", [str(APP_PYTHON), "-m", "bot", "worker"], None, None, common))
    if (PROJECT_ROOT / "bot" / "web" / "app.py").exists():
        parts.append(
            Service(
                "web app",
                [str(APP_PYTHON), "-m", "bot", "web"],
                settings.web_port,
                f"http://{_reachable(settings.web_host)}:{settings.web_port}/health",
                common,
            )
        )
    if settings.telegram_bot_token and (PROJECT_ROOT / "bot" / "telegram").exists():
        parts.append(
            Service("telegram", [str(APP_PYTHON), "-m", "bot", "telegram"], None, None, common)
        )
    return parts


def _reachable(bound: str) -> str:
    """Where to reach a server bound to `bound` from this machine."""
    return LOOPBACK if bound in ("0.0.0.0", "::", "") else bound


def _wait_ready(service: Service, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if service.process is not None and service.process.poll() is not None:
            return False
        if service.ready_url is None:
            return True
        try:
            with urllib.request.urlopen(service.ready_url, timeout=2) as response:
                if response.status < 500:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def _stop(parts: list[Service]) -> None:
    for service in reversed(parts):
        if service.process and service.process.poll() is None:
            os.killpg(service.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for service in parts:
        if service.process is None:
            continue
        try:
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(service.process.pid, signal.SIGKILL)


def run_stack(settings: Settings) -> int:
    model = ensure_model(verbose=True)
    parts = services(settings, model)
    taken = [s for s in parts if s.port is not None and port_in_use(LOOPBACK, s.port)]
    if taken:
        for s in taken:
            print(
                f"error: port {s.port} ({s.name}) is already in use on {LOOPBACK}. "
                f"Stop whatever uses it, or choose another port "
                f"(RASA_PORT, ACTION_PORT, WEB_PORT).",
                file=sys.stderr,
            )
        return 1
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()

    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        for service in parts:
            env = service.process_env(os.environ)
            service.process = subprocess.Popen(
                service.argv, cwd=PROJECT_ROOT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + 300
        for service in parts:
            if stopping:
                break
            if not _wait_ready(service, deadline):
                print(
                    f"error: {service.name} did not start; see its output above.", file=sys.stderr
                )
                return 1
            print(
                f"ready: {service.name}"
                + (f" on {service.ready_url}" if service.ready_url else ""),
                flush=True,
            )
        if not stopping:
            print(
                f"\nMijn Stem is running. Chat: make chat, or POST to "
                f"{settings.rasa_webhook_url}\n"
                f"Web chat: {settings.public_web_url}/chat (make a code: "
                f".venv/bin/python -m bot invite --age 10; see docs/web-chat.md)\n"
                f"Press Ctrl-C to stop.\n",
                flush=True,
            )
        while not stopping:
            for service in parts:
                if service.process is not None and service.process.poll() is not None:
                    print(
                        f"error: {service.name} stopped (exit {service.process.returncode}); "
                        "stopping the rest.",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping...", flush=True)
        _stop(parts)
