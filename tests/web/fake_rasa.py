"""A tiny stand-in for Rasa's REST channel (and the action server's /health) on loopback:
records what it was sent and answers with a scripted reply. `fail_with` makes it answer
an HTTP error, `actions_up = False` makes the action server look down, `stop()` takes it
off the network entirely."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = list[dict[str, object]]


def default_reply(sender: str, message: str) -> Reply:
    if message.startswith("/start"):
        return [
            {"recipient_id": sender, "text": "Hoi! Ik ben Mijn Stem."},
            {
                "recipient_id": sender,
                "text": "Wat is een wens van jou?",
                "buttons": [
                    {"title": "Weet ik niet 🤷", "payload": "/dont_know"},
                    {"title": "Overslaan", "payload": "/skip"},
                ],
            },
        ]
    return [{"recipient_id": sender, "text": f"Je zei: {message}"}]


class FakeRasa:
    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.reply: Callable[[str, str], Reply] = default_reply
        self.fail_with: int | None = None
        # The action server's /health (tests point ACTION_PORT here too).
        self.actions_up = True
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/health" and fake.actions_up:
                    self._send(200, {"status": "ok"})
                else:
                    self._send(503 if self.path == "/health" else 404, {"error": "down"})

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                if self.path != "/webhooks/rest/webhook":
                    self._send(404, {"error": "not found"})
                    return
                if fake.fail_with is not None:
                    self._send(fake.fail_with, {"error": "broken"})
                    return
                fake.received.append({"sender": body["sender"], "message": body["message"]})
                self._send(200, fake.reply(body["sender"], body["message"]))

            def _send(self, status: int, payload: object) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._handler = Handler
        self.port = 0
        self.running = False
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again, on the same port after a stop)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.running = True

    @property
    def messages(self) -> list[str]:
        return [r["message"] for r in self.received]

    def stop(self) -> None:
        if self.running:
            self._server.shutdown()
            self._server.server_close()
            self.running = False
