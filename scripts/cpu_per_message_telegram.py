"""CPU time per message, per process, over the full Telegram path (the counterpart of
scripts/cpu_per_message.py, which measures REST).

    .venv/bin/python -m scripts.cpu_per_message_telegram [--chats 20] [--profile SECONDS]

Starts Mijn Stem as `make bench` does, the fake Bot API in this process and the bridge
(`python -m bot telegram`), runs the interview once in a lone chat (for the number of
answers per turn) and then in `--chats` chats in a closed loop, one driver thread each,
as `make bench` does. Prints the CPU milliseconds per message of Rasa, the action
server, the bridge and this process (the fake Bot API and the driver threads), read
from /proc before and after the closed loop, with msg/s, p95 and the bench's own
correctness checks (transcripts equal to the lone chat's, every answer stored).

With `--profile SECONDS`, py-spy samples the bridge and this process during the closed
loop (collapsed stacks in var/profile/telegram-<process>.txt, as scripts/profile_stack).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from scripts.bench import (
    TelegramPath,
    check_ours_stored,
    make_invites,
    percentile,
    start_ours,
)
from scripts.cpu_per_message import cpu_seconds
from scripts.profile_stack import OUT, PY_SPY, top

LONE_CHAT = 900_000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, metavar="SECONDS")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bot, stack, _ready = start_ours(Path(tmp) / "var")
        try:
            codes = make_invites(stack.settings, options.chats + 1,
                                 age=max(15, stack.settings.telegram_min_age))
            path = TelegramPath(stack, Path(tmp))
            try:
                path.wait_polling()
                lone: list[float] = []
                expected = path.run_chat(LONE_CHAT, codes[0], None, lone)
                reference = path.transcript(LONE_CHAT, codes[0])
                chats = {LONE_CHAT + 1 + i: codes[1 + i] for i in range(options.chats)}
                pids = {**{name: p.pid for name, p in bot.processes.items()},
                        "bridge": path.bridge.pid, "driver": os.getpid()}
                spies = start_profiles(pids, options.profile)
                calls_before, polls_before = len(path.api.calls), path.api.polls
                sent = path.sent()
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                latencies, elapsed, failures = path.closed_loop(chats, expected)
                after = {name: cpu_seconds(pid) for name, pid in pids.items()}
                calls = Counter(c.method for c in path.api.calls[calls_before:])
                calls["getUpdates (polls)"] = path.api.polls - polls_before
                sent = path.sent() - sent
                for spy in spies.values():
                    spy.wait(timeout=options.profile + 60)
                differ = sum(path.transcript(chat, code) != reference
                             for chat, code in chats.items())
            finally:
                path.stop()
            errors = failures + check_ours_stored(stack, codes)
        finally:
            bot.stop()
    messages = len(latencies)
    per = {name: round(1000 * (after[name] - before[name]) / messages, 1) for name in before}
    per["total"] = round(sum(per.values()), 1)
    print(json.dumps({"messages": messages, "cpu_ms_per_message": per,
                      "msg_per_s": round(messages / elapsed, 1),
                      "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
                      "one_chat_p50_ms": round(1000 * percentile(lone, 0.5), 1),
                      "one_chat_p95_ms": round(1000 * percentile(lone, 0.95), 1),
                      "bot_messages_per_message": round(sum(expected) / len(expected), 2),
                      "bot_messages_per_s": round(sent / elapsed, 1),
                      "api_calls_per_message": {method: round(n / messages, 2)
                                                for method, n in sorted(calls.items())},
                      "transcripts_differ": differ, "errors": errors[:5]}))
    for name in spies:
        print(f"\n== {name}: share of samples (inclusive) ==")
        for frame, share in top(OUT / f"telegram-{name}.txt", extra=("/telegram/", "/httpx",
                                                                     "/httpcore/", "/http/",
                                                                     "/fakes/", "/scripts/")):
            print(f"{share:5.1f}%  {frame}")
    return 1 if errors or differ else 0


def start_profiles(pids: dict[str, int], seconds: int) -> dict[str, subprocess.Popen[bytes]]:
    """py-spy on the bridge and on this process, for `seconds` of the closed loop."""
    if not seconds:
        return {}
    OUT.mkdir(parents=True, exist_ok=True)
    return {
        name: subprocess.Popen(
            [str(PY_SPY), "record", "--pid", str(pids[name]), "--duration", str(seconds),
             "--rate", "50", "--format", "raw", "--output",
             str(OUT / f"telegram-{name}.txt"), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for name in ("bridge", "driver")
    }


if __name__ == "__main__":
    raise SystemExit(main())
