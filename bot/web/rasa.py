"""The one client for Rasa's REST channel used by the web chat (a test hands in a loopback
fake by pointing `settings.rasa_url` at it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from bot.network import CIRCLE_IMAGE_REF, WEB_CIRCLE_URL


class RasaUnavailable(RuntimeError):
    """Rasa (or the action server behind it) did not answer properly; try again later."""


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: list[Button] = field(default_factory=list)
    image: str | None = None  # only our own picture: WEB_CIRCLE_URL


def parse_reply(body: object) -> list[BotMessage]:
    """Rasa's REST reply: a list of {"text", "buttons", "image", ...}. Text and buttons are
    shown; the only image is the child's own network circle (CIRCLE_IMAGE_REF), served by
    the web app itself. Any other image URL is dropped: the page loads nothing from
    elsewhere."""
    if not isinstance(body, list):
        raise RasaUnavailable("unexpected reply from Rasa")
    messages: list[BotMessage] = []
    for item in body:
        if not isinstance(item, dict):
            continue
        text = item.get("text")
        buttons = [
            Button(title=str(b.get("title") or b.get("payload")), payload=str(b["payload"]))
            for b in item.get("buttons") or []
            if isinstance(b, dict) and b.get("payload")
        ]
        image = WEB_CIRCLE_URL if item.get("image") == CIRCLE_IMAGE_REF else None
        if not isinstance(text, str):
            text = ""
        if text.strip() or buttons or image:
            messages.append(BotMessage(text=text, buttons=buttons, image=image))
    return messages


class RasaClient:
    """Checks the action server before handing Rasa a message: with the action server
    down, Rasa would take the message, lose the actions' work and answer nothing, so
    the message would be used up without being handled. An empty answer is treated the
    same way (every turn of this bot says something)."""

    def __init__(
        self, webhook_url: str, http: httpx.AsyncClient, action_health_url: str | None = None
    ) -> None:
        self._url = webhook_url
        self._http = http
        self._action_health_url = action_health_url

    async def _actions_up(self) -> bool:
        if self._action_health_url is None:
            return True
        try:
            response = await self._http.get(self._action_health_url, timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def send(self, sender: str, text: str) -> list[BotMessage]:
        if not await self._actions_up():
            raise RasaUnavailable("the action server is not reachable")
        try:
            response = await self._http.post(self._url, json={"sender": sender, "message": text})
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa cannot be reached: {exc!r}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise RasaUnavailable("Rasa sent something that is not JSON") from exc
        messages = parse_reply(body)
        if not messages:
            raise RasaUnavailable("Rasa answered nothing (were the actions lost?)")
        return messages
