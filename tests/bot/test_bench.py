"""scripts/bench.py's capacity step against a loopback stand-in for a bot: every chat
sends its message in the step, and a step that measures nothing is an error, not "nan"
(the quick mode's steps once sent no message at all). Times nothing."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts import bench


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = json.dumps([{"recipient_id": message["sender"],
                            "text": f"re: {message['message']}"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/rest/webhook"
    server.shutdown()
    server.server_close()


def _bot(url: str) -> bench.Bot:
    return bench.Bot("probe", url, {}, lambda index: ["a", "b", "c"], lambda: None)


async def _step(load: bench.RestLoad, chats: int, first: int = 0) -> dict:
    async with bench._client(chats) as http:
        return await load.paced_step(http, chats, first)


@pytest.fixture(autouse=True)
def short_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "PERIOD", 0.05)


def test_every_chat_sends_in_a_step_and_goes_on_with_its_conversation(webhook: str) -> None:
    load = bench.RestLoad(_bot(webhook), "cap")
    first = asyncio.run(_step(load, 5))
    second = asyncio.run(_step(load, 8))
    assert first["messages"] == 5 and first["unanswered"] == 0
    assert second["messages"] == 8
    # The first five chats are at their second message, the three new ones at their first.
    assert [load.transcripts[i] for i in range(5)] == [[["re: a"], ["re: b"]]] * 5
    assert [load.transcripts[i] for i in range(5, 8)] == [[["re: a"]]] * 3
    assert not load.errors


def test_a_chat_at_the_end_of_its_conversation_starts_a_new_one_as_a_new_sender(
        webhook: str) -> None:
    load = bench.RestLoad(_bot(webhook), "cap")
    for _ in range(4):
        asyncio.run(_step(load, 1))
    assert load.transcripts[0] == [["re: a"], ["re: b"], ["re: c"]]
    assert load.transcripts[bench.ROUND_STRIDE] == [["re: a"]]


def test_a_step_with_no_answer_is_an_error_not_nan(webhook: str) -> None:
    dead = webhook.rsplit(":", 1)[0] + ":9/webhooks/rest/webhook"  # discard port: refused
    load = bench.RestLoad(_bot(dead), "cap")
    with pytest.raises(bench.BenchError, match="no message was answered"):
        asyncio.run(_step(load, 3))
    assert len(load.errors) == 3


def test_percentiles_of_nothing_are_an_error() -> None:
    with pytest.raises(bench.BenchError):
        bench.percentile([], 0.95)
    with pytest.raises(bench.BenchError):
        bench.summary([], 1.0)
    assert bench.percentile([0.1 * n for n in range(1, 21)], 0.95) == pytest.approx(1.9)


@pytest.mark.parametrize("chats", [5, 10, 25, 300])
def test_chat_offsets_spread_over_the_period(chats: int) -> None:
    offsets = sorted((n * bench.GOLDEN) % 1.0 for n in range(chats))
    gaps = [b - a for a, b in zip(offsets, [*offsets[1:], offsets[0] + 1], strict=True)]
    # The golden-ratio sequence: no gap more than about 2.6 times the even spacing.
    assert max(gaps) < 2.7 / chats
