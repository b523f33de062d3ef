from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import Stack, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One real action server + Rasa for all end-to-end tests (each uses its own chats)."""
    running = start_stack(Path(tmp_path_factory.mktemp("stack")))
    yield running
    running.stop()


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text") or "" for m in messages]
