"""Fixtures for the Telegram tests: the fake Bot API server, the bridge as a real
process (`python -m bot telegram`), and a real Rasa + action server stack whose
action server sends notifications to the fake API."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.e2e.stack import Stack, start_stack
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI

APP_PYTHON = str(PROJECT_ROOT / ".venv" / "bin" / "python")


@dataclass
class BridgeProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return int(self.process.returncode)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_bridge(env: dict[str, str], log: Path) -> BridgeProcess:
    handle = open(log, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [APP_PYTHON, "-m", "bot", "telegram"], cwd=PROJECT_ROOT, env=env,
        stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )
    handle.close()
    return BridgeProcess(process, log)


def bridge_env(base: dict[str, str], api: FakeTelegramAPI, **extra: str) -> dict[str, str]:
    return {**base, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url,
            "TELEGRAM_RETRY_SECONDS": "0.5", **extra}


@pytest.fixture(scope="session")
def tg_server() -> Iterator[FakeTelegramAPI]:
    api = FakeTelegramAPI().start()
    yield api
    api.stop()


@pytest.fixture
def tg_api(tg_server: FakeTelegramAPI) -> FakeTelegramAPI:
    """The fake Bot API, fresh for each test: the server (and so its address, which the
    shared stack's action server knows) lives for the session, its state does not."""
    return tg_server.reset()


@pytest.fixture(scope="session")
def tg_stack(
    tmp_path_factory: pytest.TempPathFactory, tg_server: FakeTelegramAPI
) -> Iterator[Stack]:
    """Real Rasa and action server; the action server knows the fake Bot API, so the
    caseworker notification of a shared summary can be checked."""
    stack = start_stack(
        Path(tmp_path_factory.mktemp("tg-stack")),
        extra_env={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": tg_server.base_url},
    )
    yield stack
    stack.stop()
