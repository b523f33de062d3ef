"""Child-facing lines the bridge says itself, read from the domain once at start-up.

Only for when Rasa cannot answer (it is down): everything else comes from Rasa.
Caseworker messages are Jinja templates (bot.notify.templates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain import DOMAIN_DIR, load_domain
from bot.gateway import BotMessage, Button


class DomainResponses:
    """Responses from the domain, with Rasa's choice of conditional variation on the
    `age_group` slot (the only condition our responses use)."""

    def __init__(self, responses: dict[str, list[dict[str, Any]]]) -> None:
        self._responses = responses

    @classmethod
    def load(cls, path: Path = DOMAIN_DIR) -> DomainResponses:
        domain = load_domain(path)
        return cls(domain.get("responses") or {})

    def text(self, name: str, age_group: str | None = None) -> str:
        return str(self._variant(name, age_group)["text"])

    def message(self, name: str, age_group: str | None = None) -> BotMessage:
        """The response as a chat message, with its buttons."""
        variant = self._variant(name, age_group)
        buttons = tuple(Button(title=str(b["title"]), payload=str(b["payload"]))
                        for b in variant.get("buttons") or [])
        return BotMessage(text=str(variant["text"]), buttons=buttons)

    def _variant(self, name: str, age_group: str | None) -> dict[str, Any]:
        variants = self._responses.get(name)
        if not variants:
            raise KeyError(f"{name} is not a response in the domain")
        default = None
        for variant in variants:
            conditions = variant.get("condition") or []
            if not conditions:
                default = default or variant
                continue
            if age_group is not None and all(
                c.get("name") == "age_group" and c.get("value") == age_group
                for c in conditions
            ):
                return variant
        if default is None:
            raise KeyError(f"{name} has no variant without a condition")
        return default
