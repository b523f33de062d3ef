"""The fake Bot API's per-chat index and wait (used by the bench's driver threads):
messages are counted per chat, a waiting thread is woken by a message to its chat,
and its answers are whole HTTP responses for a keep-alive client and for urllib."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI


@pytest.fixture
def api() -> Iterator[FakeTelegramAPI]:
    server = FakeTelegramAPI().start()
    yield server
    server.stop()


def send(client: httpx.Client, api: FakeTelegramAPI, chat: int, text: str) -> dict[str, object]:
    response = client.post(f"{api.base_url}/bot{TOKEN}/sendMessage",
                           data={"chat_id": str(chat), "text": text})
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_messages_are_counted_per_chat_in_order(api: FakeTelegramAPI) -> None:
    with httpx.Client(trust_env=False) as client:  # one kept-alive connection
        for chat, text in [(1, "a"), (2, "b"), (1, "c")]:
            assert send(client, api, chat, text)["ok"] is True
    assert api.texts_to(1) == ["a", "c"] and api.texts_to(2) == ["b"]
    api.wait_for_count(1, 2, timeout=5)  # already there: returns at once
    api.reset()
    assert api.messages_to(1) == []


def test_a_waiting_thread_is_woken_by_a_message_to_its_chat(api: FakeTelegramAPI) -> None:
    done = threading.Event()

    def wait() -> None:
        api.wait_for_count(7, 1, timeout=60)
        done.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    with httpx.Client(trust_env=False) as client:
        send(client, api, 8, "another chat")
        send(client, api, 7, "hoi")
    waiter.join(timeout=60)
    assert done.is_set() and api.texts_to(7) == ["hoi"]


def test_waiting_for_a_message_that_never_comes_times_out(api: FakeTelegramAPI) -> None:
    with pytest.raises(TimeoutError):
        api.wait_for_count(9, 1, timeout=0.05)


def test_errors_are_whole_responses_for_urllib_too(api: FakeTelegramAPI) -> None:
    request = urllib.request.Request(f"{api.base_url}/bot{TOKEN}/noSuchMethod", data=b"")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 404
    assert json.loads(caught.value.read())["description"].startswith("Not Found")
