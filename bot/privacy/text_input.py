"""What a chat message may contain before Rasa sees it (used by bot/nlu/channel.py).

Stdlib only: runs inside Rasa. Control characters (except new lines and tabs), bidi
overrides and lone surrogates (valid JSON, invalid Unicode: they cannot be encrypted or
stored) are removed or replaced; very long messages are cut, and the caller says so.
"""

from __future__ import annotations

import unicodedata

# Enough for a long answer; Telegram's own limit is 4096 characters.
MAX_MESSAGE_CHARS = 4000
# Put in the metadata of a message that was cut: its original length.
CLIPPED_METADATA_KEY = "mijnstem_clipped_from"

_KEEP_CONTROLS = {"\n", "\t"}
# Bidirectional embeddings, overrides and isolates: they can make text read differently
# from what is stored. Zero-width joiners are kept (emoji sequences need them).
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_DROP_FORMAT = _BIDI_CONTROLS | {"\ufeff"}


def _clean_char(ch: str) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    if ch in _KEEP_CONTROLS:
        return ch
    if ch in _DROP_FORMAT or unicodedata.category(ch) == "Cc":
        return ""
    return ch


def clean_message(text: str, max_chars: int = MAX_MESSAGE_CHARS) -> tuple[str, bool]:
    """The message as Rasa may see it, and whether it had to be cut."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = "".join(_clean_char(ch) for ch in text)
    if len(cleaned) > max_chars:
        return cleaned[:max_chars], True
    return cleaned, False


def was_clipped(events: list[dict]) -> bool:
    """Whether the latest user message in these tracker events was cut (the actions use
    this not to claim they kept all of it; the channel already said it did not)."""
    for event in reversed(events):
        if event.get("event") == "user":
            return CLIPPED_METADATA_KEY in (event.get("metadata") or {})
    return False
