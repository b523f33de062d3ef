"""The shared Telegram Bot API client for notifications (safety alerts, shared
summaries): one small module, so tests can point it at a fake API on loopback.

The Telegram bridge (bot/telegram) has its own python-telegram-bot Application; this
client is for processes that only need to send a message now and then: a plain
`telegram.Bot` of the same library, pointed at TELEGRAM_BASE_URL.
"""

from __future__ import annotations

import asyncio
import logging

import telegram
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from bot.settings import Settings

log = logging.getLogger("mijnstem.notify")

DEFAULT_API_ROOT = "https://api.telegram.org"


class TelegramError(RuntimeError):
    """The message was not sent (no token, Telegram unreachable or refusing)."""


def api_root(settings: Settings) -> str:
    """TELEGRAM_BASE_URL is the server root (e.g. a self-hosted telegram-bot-api at
    http://127.0.0.1:8081); the official API when unset."""
    return (settings.telegram_base_url or DEFAULT_API_ROOT).rstrip("/")


async def send_message(
    settings: Settings, chat_id: int | str, text: str, *, timeout: float = 10.0
) -> None:
    """Send a plain-text message; raises TelegramError when it was not sent."""
    if not settings.telegram_bot_token:
        raise TelegramError("TELEGRAM_BOT_TOKEN is not set")
    request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout,
                           write_timeout=timeout, httpx_kwargs={"trust_env": False})
    bot = telegram.Bot(settings.telegram_bot_token, base_url=f"{api_root(settings)}/bot",
                       request=request)
    try:
        await request.initialize()
        for attempt in range(2):
            try:
                await bot.send_message(chat_id, text)
                return
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = wait if isinstance(wait, (int, float)) else wait.total_seconds()
                if attempt == 0:
                    await asyncio.sleep(min(seconds, 30))
                    continue
                raise TelegramError("Telegram refused the message (429: too many)") from None
            except telegram.error.TelegramError as exc:
                # Only the kind and Telegram's words: the URL carries the bot token.
                raise TelegramError(
                    f"Telegram did not take the message ({type(exc).__name__}: "
                    f"{exc.message.replace(settings.telegram_bot_token, '***')})"
                ) from None
    finally:
        await request.shutdown()
