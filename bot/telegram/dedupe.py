"""Answer a repeated update once.

Telegram can deliver an update again: a webhook call that timed out is retried, and
after a crash polling restarts from the last confirmed offset. Update ids only need to
be remembered for a while, so a bounded window of recent ids is enough.
"""

from __future__ import annotations

from collections import deque


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
