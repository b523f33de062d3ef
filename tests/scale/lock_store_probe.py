"""Run by test_shared_state.py with .venv-rasa's Python: several processes take Rasa
ticket locks for one conversation through bot.nlu.lock_store and print what they got."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from multiprocessing import Pool

from bot.nlu.lock_store import MijnStemLockStore


def issue(args: tuple[str, int]) -> list[int]:
    url, count = args
    store = MijnStemLockStore(environ={"REDIS_URL": url})
    return [store.issue_ticket("race") for _ in range(count)]


async def serve(url: str, worker: int, rounds: int, log: list[tuple[int, str, float]]) -> None:
    store = MijnStemLockStore(environ={"REDIS_URL": url})
    for _ in range(rounds):
        async with store.lock("serial", wait_time_in_seconds=0.01):
            log.append((worker, "in", time.monotonic()))
            await asyncio.sleep(0.005)
            log.append((worker, "out", time.monotonic()))


def serve_process(args: tuple[str, int]) -> list[tuple[int, str, float]]:
    url, worker = args
    log: list[tuple[int, str, float]] = []
    asyncio.run(serve(url, worker, 15, log))
    return log


def main() -> None:
    url = sys.argv[1]
    memory = MijnStemLockStore(environ={})
    with Pool(4) as pool:
        tickets = [t for part in pool.map(issue, [(url, 100)] * 4) for t in part]
        logs = [e for part in pool.map(serve_process, [(url, w) for w in range(3)]) for e in part]
    after = MijnStemLockStore(environ={"REDIS_URL": url})
    print("PROBE " + json.dumps({
        "memory_backend": type(memory.backend).__name__,
        "redis_backend": type(after.backend).__name__,
        "tickets": tickets,
        "serial_log": sorted(logs, key=lambda e: e[2]),
        "serial_lock_left": after.get_lock("serial") is not None,
    }))


if __name__ == "__main__":
    main()
