"""Rasa's REST answers as one small typed value, the same for every channel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    """One answer of the bot: a text (maybe empty), its buttons, an optional image."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    image: str | None = None


def _buttons(raw: object) -> tuple[Button, ...]:
    buttons = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        title = str(item.get("title") or "").strip()
        payload = str(item.get("payload") or "").strip()
        if title and payload:
            buttons.append(Button(title, payload))
    return tuple(buttons)


def parse_reply(body: object) -> list[BotMessage] | None:
    """Rasa's REST reply (a list of {"text", "buttons", "image", ...}) as messages; None
    when it is not such a list. Anything else (custom payloads) is not used here."""
    if not isinstance(body, list):
        return None
    messages: list[BotMessage] = []
    for item in body:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        text = text if isinstance(text, str) else ""
        image = str(item.get("image") or "").strip() or None
        buttons = _buttons(item.get("buttons"))
        if text.strip() or buttons or image:
            messages.append(BotMessage(text=text, buttons=buttons, image=image))
    return messages
