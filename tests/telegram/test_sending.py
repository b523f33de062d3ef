"""Replies through python-telegram-bot's real request path to the fake Bot API server:
photos, keyboards, and a 429 RetryAfter waited out by the AIORateLimiter."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.orm import sessionmaker
from telegram.ext import AIORateLimiter, ExtBot

from bot.gateway import BotMessage, Button, RasaGateway
from bot.settings import Settings
from bot.telegram.bridge import Bridge
from bot.telegram.texts import DomainResponses
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI

CHAT = 515_151_515


@pytest.fixture
def api() -> Iterator[FakeTelegramAPI]:
    fake = FakeTelegramAPI().start()
    yield fake
    fake.stop()


@pytest.fixture
async def bot(api: FakeTelegramAPI, settings: Settings) -> AsyncIterator[ExtBot]:  # type: ignore[type-arg]
    ext_bot = ExtBot(TOKEN, base_url=f"{api.base_url}/bot",
                     rate_limiter=AIORateLimiter(
                         max_retries=settings.telegram_rate_limit_retries))
    async with ext_bot:
        yield ext_bot


@pytest.fixture
def bridge(settings: Settings, sqlite_engine) -> Bridge:  # type: ignore[no-untyped-def]
    return Bridge(settings, sessions=sessionmaker(sqlite_engine),
                  rasa=RasaGateway("http://127.0.0.1:9/none"),
                  responses=DomainResponses({}))


async def test_photos_and_keyboards_reach_telegram(api, bot, bridge):  # type: ignore[no-untyped-def]
    await bridge.reply(bot, CHAT, [
        BotMessage("Kijk eens", image="https://example.org/cirkel.png"),
        BotMessage("Wie is dit?",
                   buttons=(Button("Mama", "/inform"), Button("Overslaan", "/skip"))),
    ])
    photo, question = api.messages_to(CHAT)
    assert photo["source"] == "https://example.org/cirkel.png"
    assert photo["caption"] == "Kijk eens"
    assert question["text"] == "Wie is dit?"
    assert question["reply_markup"] == {"inline_keyboard": [[
        {"text": "Mama", "callback_data": "/inform"},
        {"text": "Overslaan", "callback_data": "/skip"}]]}


async def test_retry_after_is_waited_out_and_nothing_is_lost(api, bot, bridge):  # type: ignore[no-untyped-def]
    api.fail_next("sendMessage", retry_after=1)
    started = time.monotonic()
    await bridge.reply(bot, CHAT, [BotMessage("een"), BotMessage("twee")])
    assert time.monotonic() - started >= 1.0  # Telegram's retry_after was honoured
    assert api.texts_to(CHAT) == ["een", "twee"]
    calls = [(c.params["text"], c.status) for c in api.calls_of("sendMessage")]
    assert calls == [("een", 429), ("een", 200), ("twee", 200)]


def test_the_application_builds_with_the_installed_extras(settings: Settings, sqlite_engine):  # type: ignore[no-untyped-def]
    """What `python -m bot telegram` builds (an option needing a missing PTB extra fails
    here, not in a process the e2e tests wait for)."""
    from bot.telegram.app import build_application

    configured = settings.model_copy(update={"telegram_bot_token": TOKEN,
                                             "telegram_base_url": "http://127.0.0.1:9"})
    application = build_application(configured, sessions=sessionmaker(sqlite_engine))
    assert application.bot_data["bridge"].rasa.webhook_url == settings.rasa_webhook_url


async def test_server_errors_are_retried_with_back_off_and_nothing_is_lost(  # type: ignore[no-untyped-def]
        api, bot, bridge, monkeypatch):
    """Telegram answers 500, then 502, then 429: every reply arrives once, in order."""
    bridge.settings = bridge.settings.model_copy(
        update={"telegram_send_retry_delays": (0.01, 0.02, 0.04, 0.08)})
    api.fail_next("sendMessage", status=500)
    api.fail_next("sendMessage", status=502)
    api.fail_next("sendMessage", retry_after=1)
    await bridge.reply(bot, CHAT, [BotMessage("een"), BotMessage("twee")])
    assert api.texts_to(CHAT) == ["een", "twee"]
    calls = [(c.params["text"], c.status) for c in api.calls_of("sendMessage")]
    assert calls == [("een", 500), ("een", 502), ("een", 429), ("een", 200), ("twee", 200)]
