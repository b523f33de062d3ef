"""Per-chat limits on incoming messages (used by bot/nlu/channel.py, inside Rasa).

Two limits per chat (Rasa sender id): a token bucket (`burst` messages at once, then
`per_minute` on average) and at most `max_in_flight` messages being handled at the same
time; Rasa handles one chat's messages one after another, so a flood would otherwise
queue up behind a lock and hold the chat up for minutes.

Kept in memory: there is one Rasa process, a restart forgets a burst (harmless: the
limits are about load, not about guessing secrets; invite codes have their own
persistent counters in bot/privacy/link_limits.py). Stdlib only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Chat:
    tokens: float
    updated: float
    in_flight: int = 0


class ChatLimiter:
    def __init__(
        self,
        *,
        burst: int,
        per_minute: float,
        max_in_flight: int,
        clock: Callable[[], float] = time.monotonic,
        max_chats: int = 10_000,
    ) -> None:
        if burst < 1 or per_minute <= 0 or max_in_flight < 1:
            raise ValueError("burst, per_minute and max_in_flight must be positive")
        self.burst = burst
        self.rate = per_minute / 60.0
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._max_chats = max_chats
        self._chats: dict[str, _Chat] = {}

    def _refill(self, chat: _Chat, now: float) -> None:
        chat.tokens = min(self.burst, chat.tokens + (now - chat.updated) * self.rate)
        chat.updated = now

    def acquire(self, key: str) -> bool:
        """Take a slot for one message; False means: refuse it. Pair with `release`."""
        now = self._clock()
        chat = self._chats.get(key)
        if chat is None:
            if len(self._chats) >= self._max_chats:
                self._forget_idle(now)
            chat = self._chats[key] = _Chat(tokens=float(self.burst), updated=now)
        self._refill(chat, now)
        if chat.in_flight >= self.max_in_flight or chat.tokens < 1:
            return False
        chat.tokens -= 1
        chat.in_flight += 1
        return True

    def release(self, key: str) -> None:
        chat = self._chats.get(key)
        if chat is not None and chat.in_flight > 0:
            chat.in_flight -= 1

    def retry_after(self, key: str) -> float:
        """Seconds until one more message would be taken (0 if now)."""
        chat = self._chats.get(key)
        if chat is None:
            return 0.0
        self._refill(chat, self._clock())
        return 0.0 if chat.tokens >= 1 else (1 - chat.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        for key, chat in list(self._chats.items()):
            self._refill(chat, now)
            if chat.in_flight == 0 and chat.tokens >= self.burst:
                del self._chats[key]
