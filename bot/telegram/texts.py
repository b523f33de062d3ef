"""Child-facing lines the bridge says itself, read from domain.yml once at start-up.

Only for when Rasa cannot answer (it is down): everything else comes from Rasa.
Caseworker messages are Jinja templates (bot.notify.templates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT


class DomainResponses:
    """Responses from domain.yml, with Rasa's choice of conditional variation on the
    `age_group` slot (the only condition our responses use)."""

    def __init__(self, responses: dict[str, list[dict[str, Any]]]) -> None:
        self._responses = responses

    @classmethod
    def load(cls, path: Path = PROJECT_ROOT / "domain.yml") -> DomainResponses:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is 10x faster
        domain = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        return cls(domain.get("responses") or {})

    def text(self, name: str, age_group: str | None = None) -> str:
        variants = self._responses.get(name)
        if not variants:
            raise KeyError(f"{name} is not a response in domain.yml")
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
                return str(variant["text"])
        if default is None:
            raise KeyError(f"{name} has no variant without a condition")
        return str(default["text"])
