"""Rasa's REST channel with the checks every message gets before Rasa sees it
(credentials.yml). Same URL and answer format as Rasa's own `rest` channel
(POST /webhooks/rest/webhook {"sender", "message"} -> a list of bot messages), which
the Telegram bridge and the web chat use on loopback.

- The body must be UTF-8 JSON with a string `sender` and `message`: otherwise HTTP 400
  with a short English error (for the developer of the calling layer, not the child).
- Control characters, bidi overrides and lone surrogates are removed from the message;
  a message longer than `max_chars` is cut, and the answer ends with a kind note
  (`utter_message_clipped`) that only the beginning was read and stored.
- Per chat, a token bucket and a cap on messages handled at once
  (bot/privacy/ratelimit.py; in Redis when REDIS_URL is set, so that several Rasa
  processes count together). A message over the limit is not handled at all: the
  answer is `utter_slow_down` ("I did not read this one, send it again in a moment"),
  with HTTP 200 so callers show it like any answer, and the header
  `X-MijnStem-Refused: rate-limit` so they can tell.
- Per chat, the rate limit is taken BEFORE the safety scan: a flood costs no scans.
  A message over the limit is still scanned, under a small limit of its own, so one
  that signals danger is never refused.
- Only our own commands and the button payloads the bot offered pass as "/intent"
  (bot/nlu/command_filter.py); any other "/restart", "/ restart" or
  "/safety_alarm{...}" is read as plain text.
- Request bodies over `max_body_bytes` are refused (HTTP 413) before they are read.
- When the action server cannot be reached, the turn is not saved at all
  (bot/nlu/action_guard.py): the answer is `utter_busy` with HTTP 503 and
  `X-MijnStem-Refused: busy`, so callers keep the message and send it again later,
  and it lands on the same question.
- Failures are logged without the message text.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

try:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.channels.rest import RestInput
    from sanic import Blueprint, response
    from sanic.request import Request
    from sanic.response import HTTPResponse

    from bot.nlu import action_guard, command_filter, log_privacy
    from bot.privacy.ratelimit import ChatLimiter, chat_limiter
    from bot.privacy.text_input import CLIPPED_METADATA_KEY, MAX_MESSAGE_CHARS, clean_message
except ImportError as exc:  # pragma: no cover - exercised only by a broken install
    raise RuntimeError(f"the Mijn Stem REST channel cannot be loaded: {exc}") from exc

logger = logging.getLogger(__name__)

REFUSED_HEADER = "X-MijnStem-Refused"
# A refused chat gets the same rendered answer for this long (no tracker read per
# message while it floods).
_REFUSAL_CACHE_SECONDS = 10.0


class MijnStemRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MijnStemRestInput:
        return cls(**(credentials or {}))

    def __init__(
        self,
        max_chars: int = MAX_MESSAGE_CHARS,
        burst: int = 60,
        per_minute: float = 60,
        max_in_flight: int = 3,
        max_body_bytes: int = 256 * 1024,
        scans_when_limited_per_minute: float = 10,
    ) -> None:
        log_privacy.install()
        action_guard.install()
        self.max_chars = int(max_chars)
        self.max_body_bytes = int(max_body_bytes)
        self.limiter = chat_limiter(
            os.environ.get("REDIS_URL", "").strip() or None,
            burst=int(burst), per_minute=float(per_minute), max_in_flight=int(max_in_flight),
        )
        # Over the limit, a message is still scanned for danger, but at most this often.
        self.scan_limiter = ChatLimiter(
            burst=5, per_minute=float(scans_when_limited_per_minute), max_in_flight=1
        )
        self._refusals: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    async def _render(self, request: Request, sender: str, response_name: str) -> list[dict]:
        """A domain response in the chat's age band, as REST answer messages."""
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.processor is None:
            return []
        store = agent.tracker_store
        tracker = await store.retrieve(sender) or store.init_tracker(sender)
        rendered = await agent.nlg.generate(response_name, tracker, self.name())
        if not rendered:
            return []
        collector = CollectingOutputChannel()
        await collector.send_response(sender, dict(rendered))
        return collector.messages

    async def _offered(self, request: Request, sender: str) -> set[str]:
        """Button payloads of the bot's last answer in this chat."""
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return set()
        try:
            tracker = await agent.tracker_store.retrieve(sender)
        except Exception as exc:  # noqa: BLE001 - unknown: nothing counts as offered
            logger.error("offered buttons cannot be read: %s", type(exc).__name__)
            return set()
        return command_filter.offered_payloads(tracker.events) if tracker else set()

    async def _scan_when_limited(self, sender: str, text: str) -> Any:
        """Over the rate limit: the safety verdict of this message, scanned at most
        `scans_when_limited_per_minute` times per chat (beyond that `_NOT_SCANNED`,
        and it is refused)."""
        if not self.scan_limiter.acquire(sender):
            return _NOT_SCANNED
        try:
            full_text, _ = clean_message(text, len(text) + 1)
            return _safety_verdict(full_text)
        finally:
            self.scan_limiter.release(sender)

    async def _refusal(self, request: Request, sender: str) -> list[dict[str, Any]]:
        now = time.monotonic()
        cached = self._refusals.get(sender)
        if cached and cached[0] > now:
            return cached[1]
        if len(self._refusals) > 1000:
            self._refusals = {k: v for k, v in self._refusals.items() if v[0] > now}
        messages = await self._render(request, sender, "utter_slow_down")
        self._refusals[sender] = (now + _REFUSAL_CACHE_SECONDS, messages)
        return messages

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        @webhook.listener("before_server_start")
        async def cap_bodies(app: Any, _loop: Any) -> None:
            # Sanic refuses bigger bodies (413) before reading them.
            app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, self.max_body_bytes)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if len(request.body or b"") > self.max_body_bytes:
                return response.json(
                    {"error": "too_large", "detail": "the request body is too large"},
                    status=413)
            try:
                payload = json.loads((request.body or b"").decode("utf-8"))
            except UnicodeDecodeError:
                return _bad_request("invalid_utf8", "the request body is not valid UTF-8")
            except ValueError:
                return _bad_request("invalid_json", "the request body is not JSON")
            if not isinstance(payload, dict):
                return _bad_request("invalid_json", "expected a JSON object")
            sender, text = payload.get("sender"), payload.get("message")
            if not isinstance(sender, str) or not sender or len(sender) > 128:
                return _bad_request("invalid_sender", "'sender' must be a short string")
            if not isinstance(text, str):
                return _bad_request("invalid_message", "'message' must be a string")
            metadata = payload.get("metadata")
            metadata = dict(metadata) if isinstance(metadata, dict) else None

            # The rate limit first, so a flood costs no safety scans; but a message that
            # signals danger is never refused or cut away. The verdict travels on in the
            # metadata, so NLU does not scan again.
            acquired = self.limiter.acquire(sender)
            if acquired:
                full_text, _ = clean_message(text, len(text) + 1)
                verdict = _safety_verdict(full_text)
                alarm = _is_alarm(verdict)
            else:
                verdict = await self._scan_when_limited(sender, text)
                alarm = verdict is not _NOT_SCANNED and _is_alarm(verdict)
                full_text = text
            if not acquired and not alarm:
                return response.json(
                    await self._refusal(request, sender),
                    headers={REFUSED_HEADER: "rate-limit",
                             "Retry-After": str(max(1, round(self.limiter.retry_after(sender))))},
                )
            try:
                # Cleaned once (above); cut here.
                clipped = len(full_text) > self.max_chars
                cleaned = full_text[: self.max_chars]
                if clipped and alarm:
                    cleaned = _alarming_window(clean_message(full_text, len(full_text) + 1)[0],
                                               self.max_chars)
                if command_filter.is_slash_text(cleaned) and not command_filter.is_own_command(
                    cleaned
                ):
                    # Only our commands and offered buttons run an intent directly.
                    offered = await self._offered(request, sender)
                    cleaned = command_filter.filter_message(cleaned, offered)
                if clipped:
                    metadata = {**(metadata or {}), CLIPPED_METADATA_KEY: len(text)}
                metadata = _with_verdict(metadata, verdict, spans=not clipped)
                input_channel = payload.get("input_channel")
                collector = CollectingOutputChannel()
                try:
                    await on_new_message(
                        UserMessage(
                            cleaned,
                            collector,
                            sender,
                            input_channel=input_channel if isinstance(input_channel, str)
                            else self.name(),
                            metadata=metadata,
                        )
                    )
                except action_guard.ActionServerUnavailable:
                    return response.json(
                        await self._render(request, sender, "utter_busy"), status=503,
                        headers={REFUSED_HEADER: "busy", "Retry-After": "5"},
                    )
                except asyncio.CancelledError:
                    logger.error("a message timed out (text not logged)")
                except Exception as exc:  # noqa: BLE001 - answer what we have, like Rasa
                    logger.error("handling a message failed: %s (text not logged)",
                                 type(exc).__name__)
                messages = list(collector.messages)
                if clipped:
                    messages += await self._render(request, sender, "utter_message_clipped")
                return response.json(messages)
            finally:
                if acquired:
                    self.limiter.release(sender)

        return webhook


# Beyond this a message is not scanned (a flood of 100 KB messages must stay cheap).
_SCAN_LIMIT = 100_000


_NOT_SCANNED = object()


def _is_alarm(verdict: Any) -> bool:
    """Never refuse an alarm; nor a message whose check failed (NLU checks again)."""
    return verdict is None or verdict.tier == "alarm"


def _safety_verdict(text: str) -> Any:
    """The detector's verdict (bot.safety.engine.Verdict), or None when it failed."""
    from bot.safety.detector import assess

    try:
        return assess(text[:_SCAN_LIMIT])
    except Exception:  # noqa: BLE001 - when unsure, never refuse: NLU checks again
        logger.exception("safety pre-check failed (text not logged)")
        return None


def _with_verdict(metadata: dict | None, verdict: Any, *, spans: bool) -> dict | None:
    """The metadata with our verdict under VERDICT_KEY; a client's own value under that
    key is always dropped. Without a verdict (the check failed), NLU scans itself."""
    from bot.safety.verdict import VERDICT_KEY, to_metadata

    kept = {k: v for k, v in (metadata or {}).items() if k != VERDICT_KEY}
    if verdict is not None and verdict is not _NOT_SCANNED:
        kept[VERDICT_KEY] = to_metadata(verdict, spans=spans)
    return kept or None


def _alarming_window(text: str, size: int) -> str:
    """The part of an over-long message that signals danger, so NLU sees it."""
    from bot.safety.detector import detect

    step = max(1, size // 2)
    try:
        for start in range(0, min(len(text), _SCAN_LIMIT), step):
            window = text[start : start + size]
            if detect(window) is not None:
                return window
    except Exception:  # noqa: BLE001
        logger.exception("safety window search failed (text not logged)")
    return text[:size]


def _bad_request(code: str, detail: str) -> HTTPResponse:
    return response.json({"error": code, "detail": detail}, status=400)
