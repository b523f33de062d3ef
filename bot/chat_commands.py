"""Slash commands and invite codes in a chat message (stdlib only).

Rasa reads a message that starts with "/" as "/intent{entities}". "/start CODE" does not
fit that syntax (and a `start` intent would swallow the code), so such messages reach the
NLU pipeline as plain text, where `bot.nlu.commands.CommandParser` uses this module.
"""

from __future__ import annotations

import re

from bot.invites import looks_like_code, normalise

LINK_INTENT = "link_chat"
CODE_ENTITY = "invite_code"

# Command word (Dutch and English spellings) -> intent.
COMMANDS: dict[str, str] = {
    "start": LINK_INTENT,
    "begin": LINK_INTENT,
    "code": LINK_INTENT,
    "stop": "stop",
    "help": "help",
    "hulp": "help",
    "privacy": "ask_privacy",
    # "Vergeet mij": erase what the child said, after a confirmation (actions/forget.py).
    "vergeet": "forget_me",
    "wis": "forget_me",
    # "Hoe voel ik me?" at any time (actions/feeling.py); the check-in before a meeting
    # (actions/checkin.py), also the Telegram invitation's button.
    "gevoel": "tell_feeling",
    "checkin": "start_checkin",
}

# A code typed on its own or inside a sentence: "mijn code is k7mp-q2xr".
_CODE_RE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{4}[- ]?[0-9A-Za-z]{4})(?![0-9A-Za-z])")
_COMMAND_RE = re.compile(r"^\s*/(?P<command>[a-zA-Z]+)(?:@\w+)?(?:[\s:=]+(?P<arg>.*))?$", re.S)


def parse_command(text: str) -> tuple[str, str | None] | None:
    """Return (intent, invite code or None) for a command or a bare code, else None."""
    match = _COMMAND_RE.match(text or "")
    if match:
        intent = COMMANDS.get(match.group("command").lower())
        if intent is None:
            return None
        arg = (match.group("arg") or "").strip()
        code = normalise(arg) if intent == LINK_INTENT and arg else None
        return intent, code or None
    for candidate in _CODE_RE.findall(text or ""):
        if looks_like_code(candidate) and any(ch.isdigit() for ch in candidate):
            return LINK_INTENT, normalise(candidate)
    return None
