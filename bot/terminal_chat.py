"""`make chat`: talk to the running bot from a terminal, as a child would."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from bot.settings import Settings


def _show(messages: list[dict[str, Any]]) -> list[str]:
    payloads: list[str] = []
    for message in messages:
        if message.get("text"):
            print(f"bot> {message['text']}")
        for button in message.get("buttons") or []:
            payloads.append(str(button["payload"]))
            print(f"   [{len(payloads)}] {button['title']}")
    return payloads


def chat(settings: Settings, sender: str | None = None) -> int:
    sender = sender or f"cli-{secrets.token_hex(6)}"
    print(f"Chatting as {sender} with {settings.rasa_webhook_url} (Ctrl-D to quit).")
    print("Start with: /start YOUR-CODE  (make a code: .venv/bin/python -m bot invite --age 10)")
    payloads: list[str] = []
    with httpx.Client(timeout=60) as client:
        while True:
            try:
                text = input("you> ").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if text.isdigit() and 0 < int(text) <= len(payloads):
                text = payloads[int(text) - 1]
            try:
                reply = client.post(
                    settings.rasa_webhook_url, json={"sender": sender, "message": text}
                )
                reply.raise_for_status()
            except httpx.HTTPError as exc:
                print(f"(the bot cannot be reached: {exc}; is `make run` running?)")
                continue
            payloads = _show(reply.json())
