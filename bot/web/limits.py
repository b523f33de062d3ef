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


class Backoff:
    """Failed invite codes per client address: after `free` failures, each further
    attempt waits twice as long as the last (from `base` seconds, at most `cap`). A
    success clears the address. Counting per address, not per child, means no one can
    lock a child out by trying their code."""

    def __init__(self, free: int = 5, base: float = 30.0, cap: float = 3600.0) -> None:
        self.free = free
        self.base = base
        self.cap = cap
        self._state: dict[Hashable, tuple[int, float]] = {}  # failures, last failure

    def wait(self, key: Hashable, now: float | None = None) -> float | None:
        """Seconds until the next attempt is allowed, or None when it is now."""
        failures, last = self._state.get(key, (0, 0.0))
        if failures < self.free:
            return None
        now = time.monotonic() if now is None else now
        delay = min(self.cap, self.base * 2 ** (failures - self.free))
        remaining = last + delay - now
        return remaining if remaining > 0 else None

    def fail(self, key: Hashable, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        failures, _ = self._state.get(key, (0, 0.0))
        self._state[key] = (failures + 1, now)
        if len(self._state) > 10_000:
            oldest = sorted(self._state, key=lambda k: self._state[k][1])[:5_000]
            for old in oldest:
                del self._state[old]

    def succeed(self, key: Hashable) -> None:
        self._state.pop(key, None)
