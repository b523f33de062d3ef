"""Rasa's lock store, chosen by the environment (endpoints.yml).

Rasa handles one conversation's messages one after another by taking a ticket lock per
conversation. With one Rasa process the locks live in memory (the default, so `make run`
needs nothing installed). With several Rasa processes behind a load balancer they must
share the locks: when REDIS_URL is set (e.g. redis://127.0.0.1:6379/0) they live in
Redis.

Rasa's own `type: redis` takes host, port and db as separate settings and would fail to
start when they are unset (endpoints.yml substitutes `${VAR}` strictly), so this class
reads one URL and falls back to memory. Rasa's Redis lock store also issues tickets with
a read-modify-write that two processes can interleave; here every change to a lock is
one optimistic Redis transaction (WATCH/MULTI), retried on conflict.

Runs inside Rasa (`.venv-rasa`, which has the `redis` client).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

try:
    from rasa.core.lock import TicketLock
    from rasa.core.lock_store import (
        LOCK_LIFETIME,
        InMemoryLockStore,
        LockError,
        LockStore,
        RedisLockStore,
    )
except ImportError as exc:  # pragma: no cover - exercised only by a broken install
    raise RuntimeError(f"the Mijn Stem lock store cannot be loaded: {exc}") from exc

logger = logging.getLogger(__name__)

KEY_PREFIX = "mijnstem:lock:"
# Rasa waits this long for Redis before it gives up on a message.
SOCKET_TIMEOUT_SECONDS = 10.0


class _AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store, built from a URL, with atomic lock updates."""

    def __init__(self, url: str) -> None:  # noqa: D107 - see the module docstring
        import redis

        # Not RedisLockStore.__init__: it wants host/port/db, not a URL.
        self.red = redis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=5
        )
        self.key_prefix = KEY_PREFIX
        LockStore.__init__(self)

    def _change(
        self, conversation_id: str, change: Callable[[TicketLock | None], TicketLock | None]
    ) -> Any:
        """Read the lock, apply `change`, write it back, all or nothing.

        `change` returns the lock to save, or None to delete it; it may stash a
        result on itself as `change.result`.
        """
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    current = TicketLock.from_dict(_loads(raw)) if raw else None
                    updated = change(current)
                    pipe.multi()
                    if updated is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, updated.dumps())
                    pipe.execute()
                    return getattr(change, "result", None)
                except redis.WatchError:
                    continue  # another process changed this lock meanwhile: redo

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: TicketLock | None) -> TicketLock:
            lock = lock or self.create_lock(conversation_id)
            change.result = lock.issue_ticket(lock_lifetime)  # type: ignore[attr-defined]
            return lock

        try:
            return int(self._change(conversation_id, change))
        except Exception as exc:  # noqa: BLE001 - Rasa expects a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        def change(lock: TicketLock | None) -> TicketLock | None:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def change(lock: TicketLock | None) -> TicketLock | None:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Drop this ticket, and the lock when nobody else waits, in one step."""

        def change(lock: TicketLock | None) -> TicketLock | None:
            if lock is None:
                return None
            lock.remove_ticket_for(ticket_number)
            return lock if lock.is_someone_waiting() else None

        self._change(conversation_id, change)


def _loads(raw: bytes | str) -> dict[str, Any]:
    import json

    return dict(json.loads(raw))


class MijnStemLockStore(LockStore):
    """Redis when REDIS_URL is set, otherwise Rasa's in-memory lock store."""

    def __init__(self, endpoint_config: Any = None, environ: dict[str, str] | None = None) -> None:
        url = (os.environ if environ is None else environ).get("REDIS_URL", "").strip()
        if url:
            self.backend: LockStore = _AtomicRedisLockStore(url)
            self.backend.red.ping()  # type: ignore[attr-defined]
            logger.info("lock store: Redis")
        else:
            self.backend = InMemoryLockStore()
            logger.info("lock store: in memory (one Rasa process; set REDIS_URL for more)")
        super().__init__()

    # Everything goes to the backend, including the ticket operations that the Redis
    # backend makes atomic.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.backend.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.backend.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.backend.save_lock(lock)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self.backend.issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        self.backend.update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.backend.finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.backend.cleanup(conversation_id, ticket_number)
