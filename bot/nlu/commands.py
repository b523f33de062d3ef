"""Slash commands and bare invite codes, recognised before intent classification counts.

Rasa reads a message that starts with "/" as "/intent{entities}". "/start CODE" does not
fit that syntax (and a `start` intent would swallow the code), so such messages reach the
NLU pipeline as plain text; this component turns them into intents here, on every channel,
Rasa's REST channel included.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.invites import looks_like_code, normalise

LINK_INTENT = "link_chat"
CODE_ENTITY = "invite_code"

# Command word (Dutch and English spellings) -> intent.
COMMANDS: dict[str, str] = {
    "start": LINK_INTENT,
    "begin": LINK_INTENT,
    "code": LINK_INTENT,
    "stop": "stop",
    "help": "help",
    "hulp": "help",
    "privacy": "ask_privacy",
}

# A code typed on its own or inside a sentence: "mijn code is k7mp-q2xr".
_CODE_RE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{4}[- ]?[0-9A-Za-z]{4})(?![0-9A-Za-z])")
_COMMAND_RE = re.compile(r"^\s*/(?P<command>[a-zA-Z]+)(?:@\w+)?(?:[\s:=]+(?P<arg>.*))?$", re.S)


def parse_command(text: str) -> tuple[str, str | None] | None:
    """Return (intent, invite code or None) for a command or a bare code, else None."""
    match = _COMMAND_RE.match(text or "")
    if match:
        intent = COMMANDS.get(match.group("command").lower())
        if intent is None:
            return None
        arg = (match.group("arg") or "").strip()
        code = normalise(arg) if intent == LINK_INTENT and arg else None
        return intent, code or None
    for candidate in _CODE_RE.findall(text or ""):
        if looks_like_code(candidate) and any(ch.isdigit() for ch in candidate):
            return LINK_INTENT, normalise(candidate)
    return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class CommandParser(GraphComponent, IntentClassifier):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CommandParser:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            parsed = parse_command(message.get(TEXT) or "")
            if parsed is None:
                continue
            intent, code = parsed
            ranking = {"name": intent, "confidence": 1.0}
            message.set(INTENT, ranking, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [ranking], add_to_output=True)
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != CODE_ENTITY]
            if code:
                entities.append(
                    {
                        "entity": CODE_ENTITY,
                        "value": code,
                        "start": 0,
                        "end": len(message.get(TEXT) or ""),
                        "extractor": "CommandParser",
                    }
                )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
