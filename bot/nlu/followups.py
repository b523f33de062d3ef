"""Inside Rasa: the team's answers reach the child's chat (issue 8).

The REST channel (bot/nlu/channel.py) asks the action server, alongside every message,
whether this chat has answers waiting (bot/loop/delivery_api.py; one loopback request
and one indexed query). When it has, the answers are rendered from the domain in the
child's age band, signed with the caseworker's first name, and appended to the reply,
followed by the reaction buttons; then they are acknowledged. The Telegram bridge gets
the same rendering at once through DELIVER_PATH.

The dialogue state is not touched: nothing is added to the tracker, so no form or rule
is disturbed. The reactions are ordinary intents (data/rules/caseworker.yml).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel

from bot.loop import internal

logger = logging.getLogger(__name__)

# The child's own words are quoted up to this length above the answer.
MAX_WORDS_SHOWN = 120
# The per-message check must never hold up the child's answer for long.
PENDING_TIMEOUT = 2.0
# No delivery while the safety check runs: it must not be distracted.
QUIET_LOOPS = {"safety_form"}


def action_server_base() -> str | None:
    url = os.environ.get("ACTION_ENDPOINT_URL", "")
    if not url:
        return None
    return url.rstrip("/").removesuffix("/webhook")


class FollowupClient:
    """Talks to the action server's delivery routes; errors mean "nothing to deliver"."""

    def __init__(self, base_url: str | None = None, secret: str | None = None) -> None:
        self.base_url = base_url if base_url is not None else action_server_base()
        secret = secret if secret is not None else os.environ.get(internal.SECRET_ENV)
        self.headers = {internal.HEADER: secret} if secret else {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.headers)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=PENDING_TIMEOUT), trust_env=False
            )
        return self._session

    async def pending(self, sender: str) -> list[dict[str, Any]]:
        if not self.enabled:
            return []
        try:
            async with self._client().post(
                f"{self.base_url}{internal.PENDING_PATH}", json={"sender": sender},
                headers=self.headers,
            ) as resp:
                if resp.status != 200:
                    logger.warning("pending deliveries: action server answered %s", resp.status)
                    return []
                body = await resp.json()
        except Exception as exc:  # noqa: BLE001 - a delivery can wait for the next message
            logger.warning("pending deliveries not fetched: %s", type(exc).__name__)
            return []
        found = body.get("deliveries") if isinstance(body, dict) else None
        return [d for d in found or [] if _valid(d)]

    async def acknowledge(self, sender: str, reply_ids: list[int]) -> None:
        if not self.enabled or not reply_ids:
            return
        try:
            async with self._client().post(
                f"{self.base_url}{internal.ACK_PATH}",
                json={"sender": sender, "reply_ids": reply_ids}, headers=self.headers,
            ) as resp:
                if resp.status != 200:
                    logger.error("deliveries not acknowledged: %s", resp.status)
        except Exception as exc:  # noqa: BLE001
            logger.error("deliveries not acknowledged: %s", type(exc).__name__)


def _valid(delivery: object) -> bool:
    return (
        isinstance(delivery, dict)
        and isinstance(delivery.get("reply_id"), int)
        and delivery.get("status") in internal.STATUSES
        and delivery.get("kind") in internal.KINDS
        and isinstance(delivery.get("signed_as"), str)
    )


def _shorten(words: str) -> str:
    words = " ".join(str(words or "").split())
    return words if len(words) <= MAX_WORDS_SHOWN else words[: MAX_WORDS_SHOWN - 1] + "…"


async def _text(nlg: Any, response: str, tracker: Any, channel: str, **values: Any) -> str:
    rendered = await nlg.generate(response, tracker, channel, **values)
    return str((rendered or {}).get("text") or "")


async def render(
    agent: Any, sender: str, deliveries: list[dict[str, Any]], channel: str
) -> tuple[list[dict[str, Any]], list[int]]:
    """The chat messages for these answers, and the ids shown. Nothing while the
    safety check is active (the answers wait for a later message)."""
    if not deliveries or agent is None or agent.processor is None:
        return [], []
    store = agent.tracker_store
    tracker = await store.retrieve(sender)
    if tracker is None:
        return [], []
    if (tracker.active_loop_name or "") in QUIET_LOOPS:
        return [], []
    nlg = agent.nlg
    collector = CollectingOutputChannel()
    shown: list[int] = []
    for delivery in deliveries:
        name = delivery["signed_as"]
        status = await _text(nlg, internal.STATUS_RESPONSES.get(
            str(delivery.get("status")), internal.STATUS_RESPONSES["gelezen"]), tracker,
                             channel, name=name)
        about_response = ("utter_followup_about_wish" if delivery["kind"] == "wish"
                          else "utter_followup_about_message")
        about = await _text(nlg, about_response, tracker, channel,
                            words=_shorten(delivery.get("words") or ""))
        text = (delivery.get("text") or "").strip()
        response = "utter_followup_answer" if text else "utter_followup_answer_short"
        rendered = await nlg.generate(response, tracker, channel, name=name, about=about,
                                      status=status, text=text)
        if rendered:
            await collector.send_response(sender, dict(rendered))
            shown.append(int(delivery["reply_id"]))
    if shown:
        buttons = await nlg.generate("utter_followup_react", tracker, channel)
        if buttons:
            await collector.send_response(sender, dict(buttons))
    return list(collector.messages), shown
