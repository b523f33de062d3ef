"""The web chat's use of the one gateway to Rasa (bot.gateway): the same client, message
and button types as Telegram and `make chat`. The web chat shows text and buttons only,
and any failure is "try again in a moment" (RasaUnavailable)."""

from __future__ import annotations

import httpx

from bot.gateway import BotMessage, Button, RasaGateway, RasaRejected
from bot.gateway import RasaUnavailable as GatewayUnavailable
from bot.gateway import parse_reply as parse_gateway_reply

__all__ = ["BotMessage", "Button", "RasaClient", "RasaUnavailable", "parse_reply"]


class RasaUnavailable(RuntimeError):
    """Rasa (or the action server behind it) did not answer properly; try again later."""


def _shown(messages: list[BotMessage]) -> list[BotMessage]:
    return [m for m in messages if m.text.strip() or m.buttons]


def parse_reply(body: object) -> list[BotMessage]:
    messages = parse_gateway_reply(body)
    if messages is None:
        raise RasaUnavailable("unexpected reply from Rasa")
    return _shown(messages)


class RasaClient:
    def __init__(
        self, webhook_url: str, http: httpx.AsyncClient, action_health_url: str | None = None
    ) -> None:
        self.gateway = RasaGateway(webhook_url, action_health_url, http=http)

    async def send(self, sender: str, text: str) -> list[BotMessage]:
        try:
            messages = _shown(await self.gateway.send(sender, text))
        except (GatewayUnavailable, RasaRejected) as exc:
            raise RasaUnavailable(str(exc)) from exc
        if not messages:
            raise RasaUnavailable("Rasa answered nothing to show")
        return messages
