"""Shared state for several processes per service: with REDIS_URL the rate limits, the
Telegram update dedupe and Rasa's lock store live in Redis; without it, in memory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.model import rasa_env
from bot.privacy.ratelimit import ChatLimiter, RedisChatLimiter, chat_limiter, redis_client
from bot.settings import PROJECT_ROOT
from bot.telegram.dedupe import RecentUpdates, RedisRecentUpdates, recent_updates
from tests.support.redis import RedisServer

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.client().flushall()
    return redis_server.url


def _limiter(kind: str, redis_url: str, clock: Clock, **limits: Any) -> Any:
    if kind == "memory":
        return ChatLimiter(clock=clock, **limits)
    return RedisChatLimiter(redis_client(redis_url), clock=clock, **limits)


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_both_limiters_keep_the_same_limits(kind: str, redis_server: RedisServer,
                                            redis_url: str):
    clock = Clock()
    limiter = _limiter(kind, redis_url, clock, burst=3, per_minute=60, max_in_flight=2)
    assert [limiter.acquire("a"), limiter.acquire("a"), limiter.acquire("a")] == [
        True, True, False]  # two in flight at most
    limiter.release("a")
    assert limiter.acquire("a") and not limiter.acquire("a")  # the burst is used up
    limiter.release("a")
    limiter.release("a")
    assert limiter.retry_after("a") == pytest.approx(1.0)
    assert limiter.acquire("b"), "another chat is not affected"
    clock.now += 1.0
    assert limiter.retry_after("a") == 0.0
    assert limiter.acquire("a") and not limiter.acquire("a")


def test_memory_and_redis_agree_step_by_step(redis_url: str):
    """The bucket arithmetic is shared in Python and mirrored in the Lua script: run both
    limiters in lockstep, with fractional refills, and compare every answer."""
    clock = Clock()
    limits: dict[str, Any] = {"burst": 3, "per_minute": 45, "max_in_flight": 3}
    memory = _limiter("memory", redis_url, clock, **limits)
    shared = _limiter("redis", redis_url, clock, **limits)
    steps = [0.0, 0.0, 0.0, 0.0, 0.5, 0.9, 0.2, 1.7, 0.0, 0.0, 3.3, 0.0, 0.0, 0.0, 0.1]
    answers = []
    for i, elapsed in enumerate(steps):
        clock.now += elapsed
        assert memory.retry_after("c") == pytest.approx(shared.retry_after("c")), i
        got = memory.acquire("c")
        assert shared.acquire("c") == got, i
        answers.append(got)
        if got and i % 2:
            memory.release("c")
            shared.release("c")
    # Both refused and granted along the way, so the comparison covered both paths.
    assert True in answers and False in answers


def test_two_processes_count_one_chat_together(redis_url: str):
    clock = Clock()
    first, second = (RedisChatLimiter(redis_client(redis_url), clock=clock, burst=4,
                                      per_minute=60, max_in_flight=10) for _ in range(2))
    taken = [limiter.acquire("chat") for limiter in (first, second, first, second, first)]
    assert taken == [True, True, True, True, False]
    assert not second.acquire("chat")


def test_a_slot_held_by_a_dead_process_expires(redis_url: str):
    clock = Clock()
    crashed = RedisChatLimiter(redis_client(redis_url), clock=clock, burst=10, per_minute=600,
                               max_in_flight=1, lease_seconds=120)
    assert crashed.acquire("chat")  # never released: the process died
    other = RedisChatLimiter(redis_client(redis_url), clock=clock, burst=10, per_minute=600,
                             max_in_flight=1, lease_seconds=120)
    assert not other.acquire("chat")
    clock.now += 121
    assert other.acquire("chat")


def test_without_redis_a_child_is_never_refused():
    # A port nothing listens on: the counters are unavailable, the message goes through.
    from tests.e2e.stack import free_port

    limiter = chat_limiter(f"redis://127.0.0.1:{free_port()}/0", burst=1, per_minute=1,
                           max_in_flight=1)
    assert isinstance(limiter, RedisChatLimiter)
    assert limiter.acquire("chat") and limiter.acquire("chat")
    limiter.release("chat")
    assert limiter.retry_after("chat") == 0.0


def test_the_default_is_in_memory():
    assert isinstance(chat_limiter(None, burst=1, per_minute=1, max_in_flight=1), ChatLimiter)
    assert isinstance(recent_updates(None), RecentUpdates)


def test_two_bridges_answer_an_update_once(redis_url: str):
    first, second = recent_updates(redis_url), recent_updates(redis_url)
    assert isinstance(first, RedisRecentUpdates)
    assert first.first_time(7001)
    assert not second.first_time(7001) and not first.first_time(7001)
    assert second.first_time(7002)


def test_rasa_lock_store_in_redis_is_shared_and_atomic(redis_url: str):
    """Four processes issue 100 tickets each for one conversation: no ticket twice
    (Rasa's own Redis lock store reads and writes the lock in two steps); three
    processes serving one conversation never overlap."""
    run = subprocess.run(
        [str(RASA_PYTHON), str(Path(__file__).with_name("lock_store_probe.py")), redis_url],
        cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=300,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("PROBE ")), None)
    assert line, run.stdout[-2000:] + run.stderr[-4000:]
    out = json.loads(line.removeprefix("PROBE "))
    assert out["memory_backend"] == "InMemoryLockStore"
    assert out["redis_backend"] == "_AtomicRedisLockStore"
    assert sorted(out["tickets"]) == list(range(400))
    log = out["serial_log"]
    assert len(log) == 2 * 3 * 15
    # Strictly in, out, in, out...: one holder at a time, across processes.
    assert [e[1] for e in log] == ["in", "out"] * (len(log) // 2)
    assert all(log[i][0] == log[i + 1][0] for i in range(0, len(log), 2))
    assert not out["serial_lock_left"]
