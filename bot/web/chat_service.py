"""What the chat routes share: the session store, the Rasa client, the limits, and the
input policy for typed text."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass, field

import httpx
from starlette.concurrency import run_in_threadpool

from bot.chat_commands import COMMANDS
from bot.settings import Settings
from bot.web.limits import Backoff, RateLimit
from bot.web.rasa import BotMessage, RasaClient
from bot.web.store import Entry, WebChat, WebSessions

# Messages per minute, starts per minute and the longest message are settings
# (WEB_MESSAGES_PER_MINUTE, WEB_STARTS_PER_MINUTE, WEB_MAX_MESSAGE_CHARS); a message body
# holds at most 4000 characters, so this is enough even when every one is escaped.
MAX_BODY_BYTES = 64 * 1024
# The start form holds one code; anything much larger is not a child typing.
MAX_FORM_BYTES = 4 * 1024
RASA_TIMEOUT = httpx.Timeout(30.0, connect=3.0)

# A typed "/word" reaches Rasa as an intent; "/restart" would wipe the conversation.
# Typed commands pass only if the bot's own command parser knows them; otherwise the
# slash is dropped. Button payloads come from the bot itself and are sent as they are.
TYPED_COMMANDS = frozenset(COMMANDS)
_SLASH_RE = re.compile(r"^\s*/([A-Za-z_]+)")


def clean_text(raw: str) -> str:
    """Drop control characters (keeping line breaks) and lone surrogates, trim."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def typed_text_for_rasa(text: str) -> str:
    match = _SLASH_RE.match(text)
    if match and match.group(1).lower() not in TYPED_COMMANDS:
        return text.lstrip()[1:]
    return text


@dataclass
class ChatService:
    """Settings, the session store, the Rasa client and the limits of the child's chat."""

    settings: Settings
    store: WebSessions
    rasa: RasaClient
    code_failures: Backoff = field(default_factory=Backoff)
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    # Per chat; per client address, so that invite codes cannot be guessed by trying many.
    message_limit: RateLimit = field(init=False)
    start_limit: RateLimit = field(init=False)

    def __post_init__(self) -> None:
        self.message_limit = RateLimit(self.settings.web_messages_per_minute)
        self.start_limit = RateLimit(self.settings.web_starts_per_minute)

    def lock(self, chat: WebChat) -> asyncio.Lock:
        """One exchange at a time per chat, so Rasa sees messages in order."""
        if len(self._locks) > 1000:
            for key in [k for k, v in self._locks.items() if not v.locked()]:
                del self._locks[key]
        return self._locks.setdefault(chat.id, asyncio.Lock())

    async def exchange(self, chat: WebChat, text: str, shown_as: str | None) -> list[BotMessage]:
        """Send one message to Rasa and record the exchange. `shown_as` is the child's
        bubble (None for the hidden "/start CODE")."""
        replies = await self.rasa.send(chat.sender, text)
        entries = [Entry("child", shown_as)] if shown_as is not None else []
        entries += [
            Entry("bot", m.text, [(b.title, b.payload) for b in m.buttons], m.image)
            for m in replies
        ]
        await run_in_threadpool(self.store.record, chat, entries)
        return replies
