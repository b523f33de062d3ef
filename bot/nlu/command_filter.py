"""Only our own commands reach Rasa's intent shortcut (stdlib only; used by
bot/nlu/channel.py inside Rasa).

Rasa reads any message that starts with "/" (after stripping spaces, so "/ restart"
too) as "/intent{entities}" and runs that intent directly: a typed `/restart` would
wipe the child's place, `/safety_alarm` would raise an alarm. So the REST channel, the
one door every channel uses, lets through only
- our commands (`/start CODE`, `/stop`, `/privacy`, `/vergeet` and their other
  spellings in bot/chat_commands.py, and the bridge's own `/media_unsupported` and
  `/message_edited`), without entities; and
- exactly the button payloads the bot offered in its last answer (read from the
  tracker by the channel).
Everything else that starts with "/" loses its leading slashes and is read as text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from bot.chat_commands import COMMANDS

# Signals our Telegram bridge sends for what it cannot pass on as text.
CHANNEL_SIGNALS = frozenset({"media_unsupported", "message_edited"})
ALLOWED_COMMANDS = frozenset(COMMANDS) | CHANNEL_SIGNALS
# "/stop", "/start K7MP-Q2XR", "/start@MijnStemBot CODE"; never with "{entities}".
_ALLOWED_RE = re.compile(r"^/(?P<command>[A-Za-z_]+)(?:@\w+)?(?:\s+[^{}]*)?$", re.S)


def is_slash_text(text: str) -> bool:
    """Would Rasa try to read this as an intent?"""
    return text.strip().startswith("/")


def is_own_command(text: str) -> bool:
    match = _ALLOWED_RE.match(text.strip())
    return match is not None and match.group("command").lower() in ALLOWED_COMMANDS


def as_plain_text(text: str) -> str:
    """The text without the leading slashes (and spaces between them)."""
    stripped = text.strip()
    while stripped.startswith("/"):
        stripped = stripped[1:].lstrip()
    return stripped or "?"


def filter_message(text: str, offered: Collection[str]) -> str:
    """`text` unchanged when it is our command or an offered button payload, else as
    plain text. Cheap for messages that do not start with "/"."""
    if not is_slash_text(text) or is_own_command(text):
        return text
    if text.strip() in offered:
        return text.strip()
    return as_plain_text(text)


def offered_payloads(events: Iterable[Any]) -> set[str]:
    """Button payloads of the bot's messages since the child last spoke.

    `events` are Rasa events (objects with `.data` for bot messages) or their dicts,
    oldest first."""
    offered: set[str] = set()
    for event in reversed(list(events)):
        kind = event.get("event") if isinstance(event, dict) else getattr(event, "type_name", None)
        if kind == "user":
            break
        if kind != "bot":
            continue
        data = event.get("data") if isinstance(event, dict) else getattr(event, "data", None)
        for button in (data or {}).get("buttons") or []:
            payload = button.get("payload") if isinstance(button, dict) else None
            if isinstance(payload, str):
                offered.add(payload.strip())
    return offered
