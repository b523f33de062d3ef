"""CPU time per message, per process: a figure that a busy machine disturbs far less
than throughput or latency (those wait for the CPU; this counts only what was used).

    .venv/bin/python -m scripts.cpu_per_message [--chats 20]

Starts Mijn Stem as `make bench` does, runs the interview in `--chats` chats in a closed
loop over REST, and prints the CPU milliseconds per message of Rasa, the action server
and both, read from /proc before and after the load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

from scripts.bench import RestLoad, start_ours

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system time of a process and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(f) for f in fields[11:15]) / TICKS


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bot, _stack, _ready = start_ours(Path(tmp) / "var")
        try:
            load = RestLoad(bot, "cpu")
            before = {name: cpu_seconds(p.pid) for name, p in bot.processes.items()}
            result = asyncio.run(load.closed_loop([[i] for i in range(options.chats)]))
            after = {name: cpu_seconds(p.pid) for name, p in bot.processes.items()}
        finally:
            bot.stop()
    messages = result["messages"]
    per = {name: round(1000 * (after[name] - before[name]) / messages, 1) for name in before}
    per["total"] = round(sum(per.values()), 1)
    print(json.dumps({"messages": messages, "cpu_ms_per_message": per,
                      "msg_per_s": result["msg_per_s"], "p95_ms": result["p95_ms"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
