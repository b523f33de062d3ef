"""Per-chat limits on incoming messages (used by bot/nlu/channel.py, inside Rasa).

Two limits per chat (Rasa sender id): a token bucket (`burst` messages at once, then
`per_minute` on average) and at most `max_in_flight` messages being handled at the same
time; Rasa handles one chat's messages one after another, so a flood would otherwise
queue up behind a lock and hold the chat up for minutes.

Two implementations behind the same three methods (`acquire`, `release`,
`retry_after`): `ChatLimiter` in memory, for one Rasa process (the default), and
`RedisChatLimiter` when REDIS_URL is set, so that several Rasa processes behind a load
balancer count one chat together. A restart forgets a burst either way (harmless: the
limits are about load, not about guessing secrets; invite codes have their own
persistent counters in bot/privacy/link_limits.py). Stdlib only, plus the `redis`
client when REDIS_URL is set.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("mijnstem.privacy")


class Limiter(Protocol):
    def acquire(self, key: str) -> bool: ...

    def release(self, key: str) -> None: ...

    def retry_after(self, key: str) -> float: ...


def _checked_rate(burst: int, per_minute: float, max_in_flight: int) -> float:
    """Tokens per second, after checking the limits both limiters take."""
    if burst < 1 or per_minute <= 0 or max_in_flight < 1:
        raise ValueError("burst, per_minute and max_in_flight must be positive")
    return per_minute / 60.0


def refilled(tokens: float, elapsed: float, *, burst: int, rate: float) -> float:
    """The bucket after `elapsed` seconds: `rate` tokens per second, at most `burst`.
    (The Redis script `_ACQUIRE` does the same in Lua, atomically.)"""
    return min(burst, tokens + max(0.0, elapsed) * rate)


def wait_for_token(tokens: float, *, rate: float) -> float:
    """Seconds until the bucket holds one whole token (0 if it does)."""
    return 0.0 if tokens >= 1 else (1 - tokens) / rate


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
        self.rate = _checked_rate(burst, per_minute, max_in_flight)
        self.burst = burst
        self.max_in_flight = max_in_flight
        self._clock = clock
        self._max_chats = max_chats
        self._chats: dict[str, _Chat] = {}

    def _refill(self, chat: _Chat, now: float) -> None:
        chat.tokens = refilled(chat.tokens, now - chat.updated, burst=self.burst, rate=self.rate)
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
        return wait_for_token(chat.tokens, rate=self.rate)

    def _forget_idle(self, now: float) -> None:
        for key, chat in list(self._chats.items()):
            self._refill(chat, now)
            if chat.in_flight == 0 and chat.tokens >= self.burst:
                del self._chats[key]


# One atomic step per message: refill the bucket, drop in-flight entries older than the
# lease (a Rasa process that died while handling a message), then take a token and an
# in-flight slot, or refuse. KEYS: bucket hash, in-flight sorted set.
# ARGV: now, burst, rate per second, max in flight, lease seconds, member, ttl seconds.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(bucket[1]) or burst
local updated = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[5]))
local granted = 0
if tokens >= 1 and redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[4]) then
  tokens = tokens - 1
  redis.call('ZADD', KEYS[2], now, ARGV[6])
  granted = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[7])
return granted
"""


class RedisChatLimiter:
    """The same limits as `ChatLimiter`, counted in Redis for all Rasa processes.

    When Redis cannot be reached a message is let through (and logged): a child must
    never be refused because a counter is unavailable.
    """

    PREFIX = "mijnstem:rate:"

    def __init__(
        self,
        client: Any,
        *,
        burst: int,
        per_minute: float,
        max_in_flight: int,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 300.0,
    ) -> None:
        self.rate = _checked_rate(burst, per_minute, max_in_flight)
        self.burst = burst
        self.max_in_flight = max_in_flight
        self.lease_seconds = lease_seconds
        self._redis = client
        self._clock = clock
        self._acquire = client.register_script(_ACQUIRE)
        # An idle chat's bucket is full again after burst / rate seconds: forget it then.
        self._ttl = int(max(burst / self.rate, lease_seconds)) + 1

    def _keys(self, key: str) -> list[str]:
        return [f"{self.PREFIX}{key}:bucket", f"{self.PREFIX}{key}:inflight"]

    def acquire(self, key: str) -> bool:
        args = [self._clock(), self.burst, self.rate, self.max_in_flight,
                self.lease_seconds, uuid.uuid4().hex, self._ttl]
        try:
            return bool(self._acquire(keys=self._keys(key), args=args))
        except Exception as exc:  # noqa: BLE001 - redis.RedisError and socket errors
            log.error("rate limit not counted, Redis unavailable: %s", type(exc).__name__)
            return True

    def release(self, key: str) -> None:
        try:
            # Any one of this chat's slots: they are all alike.
            self._redis.zpopmin(self._keys(key)[1])
        except Exception as exc:  # noqa: BLE001
            log.error("rate limit slot not released, Redis unavailable: %s",
                      type(exc).__name__)

    def retry_after(self, key: str) -> float:
        try:
            tokens, updated = self._redis.hmget(self._keys(key)[0], "tokens", "updated")
        except Exception:  # noqa: BLE001
            return 0.0
        if tokens is None or updated is None:
            return 0.0
        now_tokens = refilled(
            float(tokens), self._clock() - float(updated), burst=self.burst, rate=self.rate
        )
        return wait_for_token(now_tokens, rate=self.rate)


def redis_client(url: str) -> Any:
    """A Redis client for shared counters; short timeouts, since a child is waiting."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


def chat_limiter(
    redis_url: str | None, *, burst: int, per_minute: float, max_in_flight: int
) -> Limiter:
    """In Redis when a URL is given (several Rasa processes), else in memory."""
    if redis_url:
        return RedisChatLimiter(redis_client(redis_url), burst=burst, per_minute=per_minute,
                                max_in_flight=max_in_flight)
    return ChatLimiter(burst=burst, per_minute=per_minute, max_in_flight=max_in_flight)
