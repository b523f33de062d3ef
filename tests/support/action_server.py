"""The real action server process on a free loopback port, for the tests that talk to
it over HTTP (tests/actions/test_delivery_api.py, tests/privacy/test_action_server.py)."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.stack import services
from bot.storage import migrate
from bot.storage.db import make_engine
from tests.e2e.stack import free_port, stack_env

START_TIMEOUT = 120.0


@contextmanager
def running_action_server(var: Path, *, migrate_db: bool = False) -> Iterator[tuple[str, Settings]]:
    """Start the action server as `make run` does, with its state under `var`; yield its
    base URL and settings once /health answers, and stop it after. `migrate_db` first
    brings the database to the current Alembic head. The server's output goes to
    `var.parent / "actions.log"` and is raised if it exits while starting."""
    env = stack_env(var, {"ACTION_PORT": str(free_port())})
    settings = load_settings(env)
    if migrate_db:
        engine = make_engine(settings)
        migrate.upgrade(engine)
        engine.dispose()
    part = next(s for s in services(settings, Path("m")) if s.name == "action server")
    log_path = var.parent / "actions.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(part.argv, cwd=PROJECT_ROOT, env=part.process_env(env),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{settings.action_port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(log_path.read_text())
            try:
                with urllib.request.urlopen(base + "/health", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)  # polling for readiness, bounded by the deadline
        yield base, settings
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
