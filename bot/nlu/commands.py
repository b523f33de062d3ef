"""Rasa NLU component: slash commands and bare invite codes win over classification,
on every channel, Rasa's REST channel included (see bot/chat_commands.py)."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.chat_commands import CODE_ENTITY, parse_command


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
