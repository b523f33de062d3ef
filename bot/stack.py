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

from bot.model import RASA_BIN, ensure_model, rasa_env
from bot.settings import PROJECT_ROOT, Settings
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
    process: subprocess.Popen[bytes] | None = None


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


def services(settings: Settings, model: Path) -> list[Service]:
    host = settings.host
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
                str(RASA_BIN),
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
            {
                **rasa_env(),
                **common,
                "ACTION_ENDPOINT_URL": f"http://{host}:{settings.action_port}/webhook",
                "TRACKER_DB_URL": rasa_tracker_url(settings),
                # For the encrypted tracker store (bot/nlu/tracker_store.py).
                **tracker_store_env(settings),
            },
        ),
    ]
    parts.append(Service("worker", [str(APP_PYTHON), "-m", "bot", "worker"], None, None, common))
    if (PROJECT_ROOT / "bot" / "web" / "app.py").exists():
        parts.append(
            Service(
                "web app",
                [str(APP_PYTHON), "-m", "bot", "web"],
                settings.web_port,
                f"http://{host}:{settings.web_port}/health",
                common,
            )
        )
    if settings.telegram_bot_token and (PROJECT_ROOT / "bot" / "telegram").exists():
        parts.append(
            Service("telegram", [str(APP_PYTHON), "-m", "bot", "telegram"], None, None, common)
        )
    return parts


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
    taken = [s for s in parts if s.port is not None and port_in_use(settings.host, s.port)]
    if taken:
        for s in taken:
            print(
                f"error: port {s.port} ({s.name}) is already in use on {settings.host}. "
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
            env = {**os.environ, **service.env}
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
