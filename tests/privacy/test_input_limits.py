"""Message cleaning and per-chat rate limits (pure parts of bot/nlu/channel.py)."""

from __future__ import annotations

import pytest

from bot.privacy.ratelimit import ChatLimiter, refilled, wait_for_token
from bot.privacy.text_input import MAX_MESSAGE_CHARS, clean_message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("gewoon een zin", "gewoon een zin"),
        ("'; DROP TABLE wish; --", "'; DROP TABLE wish; --"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("regel een\r\nregel twee\rdrie", "regel een\nregel twee\ndrie"),
        ("tab\tblijft", "tab\tblijft"),
        ("nul\x00byte\x07bel\x1b[31mrood", "nulbytebel[31mrood"),
        ("c1\x85\x9fweg", "c1weg"),
        ("bidi \u202etxet\u202c", "bidi txet"),
        ("\ufeffbom", "bom"),
        ("los \ud800 surrogaat", "los \ufffd surrogaat"),
        ("emoji 👩‍👧 blijft", "emoji 👩‍👧 blijft"),
    ],
)
def test_clean_message(raw: str, expected: str):
    cleaned, clipped = clean_message(raw)
    assert cleaned == expected and not clipped
    cleaned.encode("utf-8")  # always encodable, hence storable


def test_long_messages_are_cut_and_say_so():
    text = "a" * (100 * 1024)
    cleaned, clipped = clean_message(text)
    assert clipped and len(cleaned) == MAX_MESSAGE_CHARS
    assert clean_message("b" * MAX_MESSAGE_CHARS) == ("b" * MAX_MESSAGE_CHARS, False)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_steady_rate_per_chat():
    clock = Clock()
    limiter = ChatLimiter(burst=3, per_minute=60, max_in_flight=10, clock=clock)
    taken = [limiter.acquire("a") for _ in range(5)]
    for _ in range(3):
        limiter.release("a")
    assert taken == [True, True, True, False, False]
    assert limiter.acquire("b"), "another chat is not affected"
    assert limiter.retry_after("a") == pytest.approx(1.0)
    clock.now = 1.0
    assert limiter.acquire("a") and not limiter.acquire("a")


def test_messages_in_flight_are_capped():
    limiter = ChatLimiter(burst=100, per_minute=6000, max_in_flight=2, clock=Clock())
    assert limiter.acquire("a") and limiter.acquire("a")
    assert not limiter.acquire("a")
    limiter.release("a")
    assert limiter.acquire("a")


def test_idle_chats_are_forgotten():
    clock = Clock()
    limiter = ChatLimiter(burst=2, per_minute=60, max_in_flight=1, clock=clock, max_chats=2)
    for key in ("a", "b"):
        assert limiter.acquire(key)
        limiter.release(key)
    clock.now = 10.0
    assert limiter.acquire("c")
    assert set(limiter._chats) == {"c"}


def test_bucket_arithmetic():
    assert refilled(0.5, 2.0, burst=3, rate=0.5) == 1.5
    assert refilled(2.5, 10.0, burst=3, rate=0.5) == 3  # never above the burst
    assert refilled(1.0, -5.0, burst=3, rate=0.5) == 1.0  # a clock step back takes nothing
    assert wait_for_token(0.25, rate=0.5) == 1.5
    assert wait_for_token(1.0, rate=0.5) == 0.0


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        ChatLimiter(burst=0, per_minute=1, max_in_flight=1)


def test_actions_can_tell_a_message_was_cut():
    from bot.privacy.text_input import CLIPPED_METADATA_KEY, was_clipped

    cut = {"event": "user", "metadata": {CLIPPED_METADATA_KEY: 102400}}
    whole = {"event": "user", "metadata": {}}
    bot = {"event": "bot", "text": "Genoteerd."}
    assert was_clipped([whole, cut, bot])
    assert not was_clipped([cut, whole, bot])
    assert not was_clipped([])
