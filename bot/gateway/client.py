"""The client for Rasa's REST channel on loopback.

Rasa takes a message even when the action server is down: it logs the failed actions,
answers half (or nothing) and the message is used up. So the action server's health
matters, but asking `/health` before every message doubled the requests under load
and queued them behind the actions. `Health` asks only when it must: after a failure
(connection refused, a 5xx, an empty answer) every message first checks until the
action server answers again; while all goes well, a positive answer is trusted for
`ttl` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.gateway.messages import BotMessage, parse_reply
from bot.settings import Settings

# Connecting on loopback is instant or refused; answering can take Rasa a while.
TIMEOUT = httpx.Timeout(60.0, connect=3.0)
HEALTH_TIMEOUT = 3.0
HEALTH_TTL = 2.0


class RasaUnavailable(RuntimeError):
    """Rasa or the action server cannot take the message now; keep it and retry."""


class RasaRejected(RuntimeError):
    """Rasa answered with an error for this message (it is running, but failed)."""


class Health:
    """When to ask the action server's `/health`: after a failure, or when the last
    good answer is older than `ttl` (0: only after a failure)."""

    def __init__(
        self, url: str | None, ttl: float = HEALTH_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.clock = clock
        self.checks = 0
        self._good_until = -1.0
        self._failed = False

    def needs_check(self) -> bool:
        if self.url is None:
            return False
        return self._failed or self.clock() >= self._good_until

    def good(self) -> None:
        self._failed = False
        self._good_until = self.clock() + self.ttl if self.ttl > 0 else float("inf")

    def failed(self) -> None:
        self._failed = True

    async def check(self, http: httpx.AsyncClient) -> bool:
        assert self.url is not None
        self.checks += 1
        try:
            response = await http.get(self.url, timeout=HEALTH_TIMEOUT)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


class RasaGateway:
    """POST a child's message to Rasa's REST webhook; the bot's answers come back."""

    def __init__(
        self,
        webhook_url: str,
        action_health_url: str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        health_ttl: float = HEALTH_TTL,
    ) -> None:
        self.webhook_url = webhook_url
        self.health = Health(action_health_url, health_ttl)
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=TIMEOUT, trust_env=False)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> RasaGateway:
        return cls(
            settings.rasa_webhook_url,
            f"http://{settings.host}:{settings.action_port}/health",
            **kwargs,
        )

    async def close(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """The answers to one message. RasaUnavailable: not taken, keep it and retry
        later. RasaRejected: Rasa failed on this message."""
        if self.health.needs_check():
            if not await self.health.check(self._http):
                self.health.failed()
                raise RasaUnavailable("the action server is not reachable")
            self.health.good()
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        try:
            response = await self._http.post(self.webhook_url, json=body)
        except httpx.HTTPError as exc:
            self.health.failed()
            raise RasaUnavailable(f"Rasa is not reachable ({type(exc).__name__})") from exc
        if response.status_code in (502, 503, 504):
            self.health.failed()
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        if response.status_code != 200:
            self.health.failed()
            raise RasaRejected(f"Rasa answered {response.status_code}")
        try:
            messages = parse_reply(response.json())
        except ValueError:
            messages = None
        if messages is None:
            self.health.failed()
            raise RasaRejected("Rasa's answer is not a list of messages")
        if not messages:
            # Every turn of this bot says something: an empty answer means the actions
            # were lost (the action server went down since it was last seen). Rejected,
            # not unavailable: a caller that retries gives up after a few tries.
            self.health.failed()
            raise RasaRejected("Rasa answered nothing (were the actions lost?)")
        return messages
