"""One against two Rasa processes behind HAProxy, on PostgreSQL and Redis
(docs/deploy.md): a closed loop of chats, each a whole interview over REST.

    .venv/bin/python -m scripts.bench_scale [--chats 20]

Starts its own throwaway PostgreSQL, Redis and HAProxy (Debian packages, see
scripts/test-services) and the real processes, like tests/scale/test_scale_out.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.scale.cluster import start_cluster
from tests.scale.test_scale_out import _invite_children, interview
from tests.support.postgres import start_postgres
from tests.support.redis import start_redis


async def _closed_loop(url: str, scripts: list[list[str]]) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def chat(http: httpx.AsyncClient, sender: str, messages: list[str]) -> None:
        for message in messages:
            started = time.perf_counter()
            response = await http.post(url, json={"sender": sender, "message": message})
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=600, trust_env=False) as http:
        await asyncio.gather(*(chat(http, f"bench-scale-{n}", s) for n, s in enumerate(scripts)))
    return time.perf_counter() - began, latencies


def measure(size: int, chats: int) -> dict[str, float]:
    postgres, redis = start_postgres(), start_redis()
    try:
        with tempfile.TemporaryDirectory(prefix="mijnstem-bench-scale-") as tmp:
            cluster = start_cluster(Path(tmp) / f"size{size}", postgres, redis, size=size)
            try:
                children = _invite_children(cluster, chats)
                scripts = [[m for m, _ in interview(code, n)]
                           for n, (_, code) in enumerate(children)]
                elapsed, latencies = asyncio.run(_closed_loop(cluster.rasa_url, scripts))
            finally:
                cluster.stop()
    finally:
        redis.stop()
        postgres.stop()
    quantiles = statistics.quantiles(latencies, n=100)
    return {"rasa_processes": size, "chats": chats, "messages": len(latencies),
            "msg_per_s": round(len(latencies) / elapsed, 2),
            "p50_ms": round(quantiles[49] * 1000), "p95_ms": round(quantiles[94] * 1000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=20)
    args = parser.parse_args()
    rows = [measure(size, args.chats) for size in (1, 2)]
    print("| Rasa processes | msg/s | p50 | p95 |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['rasa_processes']} | {row['msg_per_s']} | {row['p50_ms']} ms "
              f"| {row['p95_ms']} ms |")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
