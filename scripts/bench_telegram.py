"""Throughput and latency of the Telegram bridge itself.

Runs `python -m bot telegram` against the fake Bot API (tests/fakes/telegram_api.py)
and a stand-in for Rasa that answers at once, so the figures are the bridge's own
cost (plus the AIORateLimiter's 30 messages/s, Telegram's overall limit), not Rasa's.

Run: .venv/bin/python -m scripts.bench_telegram [--messages 300] [--chats 30]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bot.settings import PROJECT_ROOT
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI


class _StandInRasa(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every answer waits 40 ms for a delayed ACK

    def _reply(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - /health of the "action server"
        self._reply({"status": "ok"})

    def do_POST(self) -> None:  # noqa: N802 - Rasa's REST webhook
        length = int(self.headers.get("Content-Length") or 0)
        message = json.loads(self.rfile.read(length))
        self._reply([{"recipient_id": message["sender"], "text": "ok"}])

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--chats", type=int, default=30)
    options = parser.parse_args()

    api = FakeTelegramAPI().start()
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), _StandInRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    rasa_port = rasa.server_address[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MIJNSTEM_", "TELEGRAM_"))}
        env.pop("DATABASE_URL", None)
        env.update({
            "MIJNSTEM_ENV": "development", "MIJNSTEM_VAR_DIR": str(Path(tmp) / "var"),
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url,
            "RASA_URL": f"http://127.0.0.1:{rasa_port}", "ACTION_PORT": str(rasa_port),
        })
        log = open(Path(tmp) / "bridge.log", "wb")  # noqa: SIM115
        bridge = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "bot", "telegram"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            api.wait_for(lambda: api.polls > 0, timeout=120)
            # Latency: one chat, one message at a time.
            latencies = []
            for i in range(20):
                chat = 10_000
                before = len(api.messages_to(chat))
                started = time.monotonic()
                api.send_text(chat, f"bericht {i}")
                api.wait_for(lambda c=chat, b=before: len(api.messages_to(c)) > b)
                latencies.append((time.monotonic() - started) * 1000)
            # Throughput: many chats at once.
            total = options.messages
            started = time.monotonic()
            for i in range(total):
                api.send_text(20_000 + i % options.chats, f"bericht {i}")
            api.wait_for(
                lambda: sum(len(api.messages_to(20_000 + c)) for c in range(options.chats))
                >= total, timeout=600,
            )
            elapsed = time.monotonic() - started
        finally:
            os.killpg(bridge.pid, signal.SIGTERM)
            bridge.wait(timeout=30)
            log.close()
            api.stop()
            rasa.shutdown()
    print(f"latency, one chat: median {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies):.0f} ms (message in -> answer out, 20 messages)")
    print(f"throughput: {total} messages from {options.chats} chats answered in "
          f"{elapsed:.1f} s = {total / elapsed:.1f} messages/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
