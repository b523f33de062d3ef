"""`make chat`: talk to the running bot from a terminal, as a child would, through the
same gateway as Telegram and the web chat (bot.gateway)."""

from __future__ import annotations

import asyncio
import secrets

from bot.gateway import BotMessage, RasaGateway, RasaRejected, RasaUnavailable
from bot.settings import Settings


def _show(messages: list[BotMessage]) -> list[str]:
    payloads: list[str] = []
    for message in messages:
        if message.text:
            print(f"bot> {message.text}")
        for button in message.buttons:
            payloads.append(button.payload)
            print(f"   [{len(payloads)}] {button.title}")
    return payloads


async def _chat(settings: Settings, sender: str) -> int:
    gateway = RasaGateway.from_settings(settings)
    payloads: list[str] = []
    try:
        while True:
            try:
                text = (await asyncio.to_thread(input, "you> ")).strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if text.isdigit() and 0 < int(text) <= len(payloads):
                text = payloads[int(text) - 1]
            try:
                payloads = _show(await gateway.send(sender, text))
            except (RasaUnavailable, RasaRejected) as exc:
                print(f"(the bot cannot answer now: {exc}; is `make run` running?)")
    finally:
        await gateway.close()


def chat(settings: Settings, sender: str | None = None) -> int:
    sender = sender or f"cli-{secrets.token_hex(6)}"
    print(f"Chatting as {sender} with {settings.rasa_webhook_url} (Ctrl-D to quit).")
    print("Start with: /start YOUR-CODE  (make a code: .venv/bin/python -m bot invite --age 10)")
    return asyncio.run(_chat(settings, sender))
