"""A small in-memory sliding-window rate limit (one web process serves the chat)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable


class RateLimit:
    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[Hashable, deque[float]] = {}

    def hit(self, key: Hashable, now: float | None = None) -> float | None:
        """Count one event; None when allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(0.0, hits[0] + self.window - now)
        hits.append(now)
        if len(self._hits) > 10_000:
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
