"""Updates of different chats are handled at the same time; those of one chat strictly
in order. A child waits for Rasa's answer to their own message, not for everyone's.

PTB's update processor hook (`ApplicationBuilder.concurrent_updates`): PTB starts one
task per update in the order the updates came in, and each task passes PTB's
semaphore (first come, first served: asyncio's Semaphore is FIFO) before it reaches
`do_process_update`, where, before it first waits, it takes its place in its chat's
line. An update waiting for its turn holds one of the semaphore's places, hence the
generous default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._last: dict[int | None, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        previous = self._last.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        started = False
        try:
            if previous is not None:
                await asyncio.shield(previous)  # our cancellation must not cancel theirs
            started = True
            await coroutine
        finally:
            if not started and asyncio.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting for its turn
            if not mine.done():
                mine.set_result(None)
            if self._last.get(key) is mine:
                del self._last[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
