"""The shared Telegram Bot API client for notifications (safety alerts, shared
summaries): one small module, so tests can point it at a fake API on loopback.

The Telegram bridge (bot/telegram) has its own python-telegram-bot Application; this
client is for processes that only need to send a message now and then.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

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
    url = f"{api_root(settings)}/bot{settings.telegram_bot_token}/sendMessage"
    payload = {"chat_id": chat_id, "text": text}
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        for attempt in range(2):
            try:
                response = await client.post(url, json=payload)
            except httpx.HTTPError as exc:
                # Never log the URL: it carries the bot token.
                raise TelegramError(f"Telegram is not reachable ({type(exc).__name__})") from None
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.status_code == 200 and body.get("ok"):
                return
            retry_after = (body.get("parameters") or {}).get("retry_after")
            if response.status_code == 429 and attempt == 0 and isinstance(retry_after, int):
                await asyncio.sleep(min(retry_after, 30))
                continue
            raise TelegramError(
                f"Telegram refused the message ({response.status_code}: "
                f"{body.get('description', 'no description')})"
            )
