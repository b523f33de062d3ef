from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import Stack, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One real action server + Rasa + web app for all end-to-end tests (each uses its
    own chats)."""
    running = start_stack(Path(tmp_path_factory.mktemp("stack")), with_web=True)
    yield running
    running.stop()


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text") or "" for m in messages]


# The topics after the wishes, skipped one question at a time (issue 3): people, trusted
# person, own say, continuity (two questions), being heard. The last reply is the summary.
SKIP_AFTER_WISHES = ["overslaan"] * 6


def skip_to_summary(stack: Stack, chat: str) -> list[str]:
    replies: list[str] = []
    for message in SKIP_AFTER_WISHES:
        replies = texts(stack.say(chat, message))
    return replies
