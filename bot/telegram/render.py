"""Rasa's answers as Telegram messages: text, buttons as an inline keyboard, images as
photos. Pure functions and small data, so they are tested without Telegram."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit
from telegram.ext import InvalidCallbackData

from bot.gateway import BotMessage, Button

# Telegram's limits (Bot API): message text, photo caption, callback data (bytes).
MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH
MAX_CAPTION = MessageLimit.CAPTION_LENGTH
MAX_CALLBACK_DATA = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
# Buttons this short fit side by side ("Ja 👍" "Nee 👎"); longer ones get a row each.
SHORT_TITLE = 14
MAX_BUTTONS_PER_ROW = 3


@dataclass(frozen=True)
class Reply:
    """One message to send: a text, or a photo (with an optional caption)."""

    text: str | None = None
    photo: str | None = None
    buttons: tuple[Button, ...] = ()


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a long text at line breaks (or spaces) into parts Telegram accepts."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def render(messages: list[BotMessage]) -> list[Reply]:
    """Turn Rasa's answers into the Telegram messages to send, in order."""
    replies: list[Reply] = []
    for message in messages:
        text = message.text.strip() or None
        image = message.image
        buttons = message.buttons
        if image:
            if text and len(text) <= MAX_CAPTION:
                replies.append(Reply(text=text, photo=image, buttons=buttons))
                continue
            replies.append(Reply(photo=image, buttons=() if text else buttons))
        if text:
            parts = split_text(text)
            replies.extend(Reply(text=part) for part in parts[:-1])
            replies.append(Reply(text=parts[-1], buttons=buttons))
        elif buttons and not image:
            # Buttons without a text: Telegram needs a text to hang a keyboard on.
            replies.append(Reply(text="👇", buttons=buttons))
    return replies


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard whose callback data are the payloads themselves. The bridge's
    Application uses PTB's `arbitrary_callback_data`: what goes over the wire is a
    short key, and PTB hands the payload back when the button is pressed (also those
    longer than Telegram's 64 bytes)."""
    if not buttons:
        return None
    keys = [InlineKeyboardButton(b.title, callback_data=b.payload) for b in buttons]
    if len(keys) <= MAX_BUTTONS_PER_ROW and all(len(b.title) <= SHORT_TITLE for b in buttons):
        return InlineKeyboardMarkup([keys])
    return InlineKeyboardMarkup([[key] for key in keys])


def chosen_title(markup: InlineKeyboardMarkup | None, data: object) -> str | None:
    """The title of the pressed button, to show the child what they chose. `data` is
    the payload, or PTB's InvalidCallbackData when the payload is no longer known
    (after a restart): then the raw key of the pressed button finds it."""
    if markup is None:
        return None
    key = data.callback_data if isinstance(data, InvalidCallbackData) else None
    for row in markup.inline_keyboard:
        for button in row:
            pressed = button.callback_data
            if pressed == data or (key is not None and isinstance(pressed, InvalidCallbackData)
                                   and pressed.callback_data == key):
                return button.text
    return None
