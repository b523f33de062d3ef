"""`make bench`: training time, start-up time, throughput, latency and memory.

Starts the real stack (action server + Rasa) on free loopback ports with its own
database, runs CHATS concurrent conversations through the REST channel and reports.
Results are printed and written to var/bench.json. Targets live here, not in tests.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bot.model import RASA_BIN, rasa_env
from bot.settings import PROJECT_ROOT
from tests.e2e.stack import start_stack

CHATS = 20
ROUNDS = 1  # conversations per chat
# A teenager's whole interview (as in tests/e2e/test_interview.py): wishes, people with
# rings and contact, trusted person, own say, continuity, being heard, per-item sharing.
CONVERSATION = [
    "hoi", "ik wil zelf bepalen wanneer ik mijn vader zie", "en ik wil rijles als ik 17 ben",
    "nee", "mijn vriend mo en mijn mentor", "klopt", "binnenste", "dagelijks", "evenveel",
    "3", "maandelijks", "minder", "nee", "nee", "nee", "wie er bij mijn gesprekken is",
    "overslaan", "ik ben verhuisd naar een gezinshuis", "dat ik meer zelf wil beslissen",
    "1 3 5",
]
TARGETS = {"ready_s": 60, "p95_s": 2.0, "messages_per_s": 20, "rss_mb": 900}


def _rss_mb(pid: int) -> float:
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def bench_training() -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run(
            [str(RASA_BIN), "train", "--domain", "domain", "--out", out,
             "--fixed-model-name", "bench"],
            cwd=PROJECT_ROOT, env=rasa_env(), check=True, capture_output=True,
        )
        return time.monotonic() - started


def main() -> int:
    results: dict[str, float | int | str] = {}
    results["train_s"] = round(bench_training(), 1)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        stack = start_stack(Path(tmp) / "var")
        results["ready_s"] = round(time.monotonic() - started, 1)
        try:
            codes = [stack.invite("--age", "15") for _ in range(CHATS * ROUNDS)]
            latencies: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()

            def chat(index: int) -> None:
                for round_ in range(ROUNDS):
                    sender = f"bench-{index}-{round_}"
                    for text in [f"/start {codes[index * ROUNDS + round_]}", *CONVERSATION]:
                        t0 = time.monotonic()
                        try:
                            stack.say(sender, text, timeout=120)
                        except Exception as exc:  # noqa: BLE001 - counted and reported
                            with lock:
                                errors.append(repr(exc))
                            continue
                        with lock:
                            latencies.append(time.monotonic() - t0)

            threads = [threading.Thread(target=chat, args=(i,)) for i in range(CHATS)]
            t_start = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - t_start
            latencies.sort()
            results.update(
                chats=CHATS,
                messages=len(latencies),
                errors=len(errors),
                messages_per_s=round(len(latencies) / elapsed, 1),
                p50_s=round(statistics.median(latencies), 3),
                p95_s=round(latencies[int(len(latencies) * 0.95) - 1], 3),
                rss_mb=round(sum(_rss_mb(p.pid) for p in stack.processes), 1),
            )
        finally:
            stack.stop()
    verdicts = {k: ("ok" if (results[k] <= v if k != "messages_per_s" else results[k] >= v)
                    else "MISSED") for k, v in TARGETS.items()}
    out = PROJECT_ROOT / "var" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"results": results, "targets": TARGETS}, indent=2))
    for key, value in results.items():
        mark = f"  (target {TARGETS[key]}: {verdicts[key]})" if key in TARGETS else ""
        print(f"{key:>16}: {value}{mark}")
    return 0 if all(v == "ok" for v in verdicts.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
