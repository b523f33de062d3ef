"""Answer a repeated update once.

Telegram can deliver an update again: a webhook call that timed out is retried, and
after a crash polling restarts from the last confirmed offset. Update ids only need to
be remembered for a while, so a bounded window of recent ids is enough.

In memory for one bridge process (the default, and the only choice with polling:
Telegram serves getUpdates to one caller); in Redis when REDIS_URL is set, so that
several bridge processes behind a webhook proxy answer an update once between them.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any, Protocol

log = logging.getLogger("mijnstem.telegram")


class SeenUpdates(Protocol):
    def first_time(self, update_id: int) -> bool: ...


class RecentUpdates:
    def __init__(self, size: int = 10_000) -> None:
        self._order: deque[int] = deque()
        self._seen: set[int] = set()
        self._size = size

    def first_time(self, update_id: int) -> bool:
        """True the first time an update id is seen (and remembers it)."""
        if update_id in self._seen:
            return False
        self._seen.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self._size:
            self._seen.discard(self._order.popleft())
        return True

    def __len__(self) -> int:
        return len(self._seen)


class RedisRecentUpdates:
    """Update ids in Redis for a day (Telegram keeps an unconfirmed update that long)."""

    PREFIX = "mijnstem:tg-update:"

    def __init__(self, client: Any, ttl_seconds: int = 24 * 3600) -> None:
        self._redis = client
        self._ttl = ttl_seconds

    def first_time(self, update_id: int) -> bool:
        try:
            return bool(self._redis.set(f"{self.PREFIX}{update_id}", 1, nx=True,
                                        ex=self._ttl))
        except Exception as exc:  # noqa: BLE001 - redis.RedisError and socket errors
            # Answering twice is better than not answering at all.
            log.error("update dedupe unavailable (Redis: %s)", type(exc).__name__)
            return True


def recent_updates(redis_url: str | None) -> SeenUpdates:
    if redis_url:
        from bot.privacy.ratelimit import redis_client

        return RedisRecentUpdates(redis_client(redis_url))
    return RecentUpdates()
