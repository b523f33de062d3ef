"""The one client the bridge uses to talk to Rasa's REST channel (on loopback)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.loop import internal
from bot.pseudonym import keyed_hash
from bot.settings import Settings

log = logging.getLogger("mijnstem.telegram")

SENDER_PREFIX = "tg-"


def sender_for_chat(secret: str, chat_id: int, generation: int = 0) -> str:
    """Rasa's sender id for a Telegram chat: stable, and not the chat id in clear.

    `generation` counts the sessions of the chat (bot.storage.repo.plan_link): another
    child's code in a linked chat starts generation n+1, so a new sender id and a new
    conversation. The actions recognise the channel by the "tg-" prefix
    (actions.common.channel_of).
    """
    suffix = f":{generation}" if generation else ""
    return SENDER_PREFIX + keyed_hash(secret, f"telegram-chat:{chat_id}{suffix}")


def chat_hash(secret: str, chat_id: int) -> str:
    """The keyed hash under which a chat's generation is stored."""
    return keyed_hash(secret, f"telegram-chat-key:{chat_id}")


class RasaUnavailable(RuntimeError):
    """Rasa or the action server cannot take the message now; keep it and retry."""


class RasaRejected(RuntimeError):
    """Rasa answered with an error for this message (it is running, but failed)."""


class RasaClient:
    """POSTs a message to Rasa's REST webhook and returns Rasa's answers.

    Before handing Rasa a message it checks that the action server is up: Rasa itself
    would take the message, fail to run the actions and answer half, so the message
    would be used up without a proper answer.
    """

    def __init__(
        self,
        webhook_url: str,
        action_health_url: str | None,
        *,
        client: httpx.AsyncClient | None = None,
        internal_token: str | None = None,
    ) -> None:
        self.webhook_url = webhook_url
        self.action_health_url = action_health_url
        self.internal_token = internal_token
        # Connecting on loopback is instant or refused; answering can take Rasa a while.
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=3.0), trust_env=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> RasaClient:
        return cls(
            settings.rasa_webhook_url,
            f"http://{settings.host}:{settings.action_port}/health",
            internal_token=settings.action_secret,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def actions_up(self) -> bool:
        if self.action_health_url is None:
            return True
        try:
            response = await self._client.get(self.action_health_url, timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if not await self.actions_up():
            raise RasaUnavailable("the action server is not reachable")
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        try:
            response = await self._client.post(self.webhook_url, json=body)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa is not reachable ({type(exc).__name__})") from exc
        if response.status_code in (502, 503, 504):
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        if response.status_code != 200:
            raise RasaRejected(f"Rasa answered {response.status_code}")
        try:
            messages = response.json()
        except ValueError as exc:
            raise RasaRejected("Rasa's answer is not JSON") from exc
        if not isinstance(messages, list):
            raise RasaRejected("Rasa's answer is not a list")
        return [m for m in messages if isinstance(m, dict)]

    async def deliver(self, sender: str) -> list[dict[str, Any]]:
        """The team's answers waiting for this chat, rendered by Rasa in the child's age
        band (bot/nlu/followups.py); [] when there are none or Rasa cannot say now."""
        if self.internal_token is None:
            return []
        root = self.webhook_url.rstrip("/").removesuffix("/webhooks/rest/webhook")
        url = root + internal.DELIVER_PATH
        try:
            response = await self._client.post(
                url, json={"sender": sender}, headers={internal.HEADER: self.internal_token}
            )
        except httpx.HTTPError as exc:
            log.warning("answers not fetched from Rasa: %s", type(exc).__name__)
            return []
        if response.status_code != 200:
            log.warning("answers not fetched from Rasa: %s", response.status_code)
            return []
        try:
            messages = response.json()
        except ValueError:
            return []
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
