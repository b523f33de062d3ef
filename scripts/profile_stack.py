"""Profile the full path under load: Rasa and the action server sampled with py-spy while
20 chats run the interview over REST (the load of `make bench`).

    .venv/bin/python -m scripts.profile_stack [--seconds 40]

Writes var/profile/<process>.txt (py-spy's collapsed stacks, one line per stack with
its sample count; open them in speedscope or flamegraph.pl) and prints, per process, the
functions that hold the most samples (inclusive) among Rasa's, the SDK's and ours.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from bot.settings import PROJECT_ROOT
from scripts.bench import CHATS, RestLoad, start_ours

PY_SPY = PROJECT_ROOT / ".venv" / "bin" / "py-spy"
OUT = PROJECT_ROOT / "var" / "profile"
INTERESTING = ("rasa/", "rasa_sdk/", "/bot/", "/actions/", "sqlalchemy/", "sanic/",
               "cryptography/", "spacy/", "sklearn/")


def top(collapsed: Path, count: int = 25,
        extra: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    """Inclusive share of samples per function (each function once per stack), among
    the INTERESTING modules and `extra` ones."""
    interesting = INTERESTING + extra
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        n = int(samples)
        total += n
        seen = set()
        for frame in stack.split(";"):
            if any(part in frame for part in interesting) and frame not in seen:
                seen.add(frame)
                inclusive[frame] += n
    return [(frame, 100 * n / total) for frame, n in inclusive.most_common(count)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=40)
    options = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        bot, _stack, _ready = start_ours(Path(tmp) / "var")
        try:
            spies = {
                name: subprocess.Popen(
                    [str(PY_SPY), "record", "--pid", str(process.pid), "--subprocesses",
                     "--duration", str(options.seconds), "--rate", "50", "--format", "raw",
                     "--output", str(OUT / f"{name}.txt"), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
                for name, process in bot.processes.items()
            }
            load = RestLoad(bot, "profile")
            result = asyncio.run(load.closed_loop([[i] for i in range(CHATS)]))
            print(f"load: {result}")
            for spy in spies.values():
                spy.wait(timeout=options.seconds + 60)
        finally:
            bot.stop()
    for name in spies:
        print(f"\n== {name}: share of samples (inclusive) ==")
        for frame, share in top(OUT / f"{name}.txt"):
            print(f"{share:5.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
