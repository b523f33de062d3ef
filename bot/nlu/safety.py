"""Safety alarm in the NLU pipeline: the rule layer (`bot.safety.detector`) over the classifier.

Runs last, so a message that signals danger becomes intent `safety_alarm` (confidence
1.0) with entity `safety_category`, whatever the classifier or the command parser made of
it: at any point in the conversation, before linking, mid-form, inside a free answer.

The classifier layer (`safety_alarm` examples in data/nlu/safety.yml) speaks for
phrasings the rules do not know. Its alarm counts only when it is confident
(`classifier_min_confidence`) and the rule layer did not judge the message itself: when
the rules read "slaan", "dood" or "pijn" and found the message calm (a negation, a
figure of speech, a ball game), the classifier cannot overrule them. Else the
message falls back to the next intent, so everyday answers do not set off alarms.
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

from bot.safety.detector import analyse, get_detector

ALARM_INTENT = "safety_alarm"
CATEGORY_ENTITY = "safety_category"
# What the classifier alone says when the rules are silent (no category known).
UNCLEAR_CATEGORY = "unclear"
# Button payloads and slash commands ("/affirm", '/inform{"x": 1}') are not typed words.
_PAYLOAD = re.compile(r"^\s*/\w+(\{.*\})?\s*$", re.S)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class SafetyDetector(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"classifier_min_confidence": 0.8}

    def __init__(self, config: dict[str, Any]) -> None:
        self.min_confidence = float(config.get("classifier_min_confidence", 0.8))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyDetector:
        # Load spaCy and the lookup tables now, not on a child's first message.
        get_detector()
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.strip() or _PAYLOAD.match(text):
                continue
            analysis = analyse(text)
            if analysis.signals:
                signal = analysis.signals[0]
                self._alarm(message, signal.category, signal.start, signal.end)
            elif (message.get(INTENT) or {}).get("name") == ALARM_INTENT:
                self._check_classifier(message, text, judged=analysis.judged)
        return messages

    def _alarm(self, message: Message, category: str, start: int, end: int) -> None:
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != ALARM_INTENT
        ]
        top = {"name": ALARM_INTENT, "confidence": 1.0}
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        entities = [
            e for e in message.get(ENTITIES) or [] if e.get("entity") != CATEGORY_ENTITY
        ]
        entities.append(
            {
                "entity": CATEGORY_ENTITY,
                "value": category,
                "start": start,
                "end": end,
                "confidence_entity": 1.0,
                "extractor": "SafetyDetector",
            }
        )
        message.set(ENTITIES, entities, add_to_output=True)

    def _check_classifier(self, message: Message, text: str, *, judged: bool) -> None:
        confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
        if confidence >= self.min_confidence and not judged:
            self._alarm(message, UNCLEAR_CATEGORY, 0, len(text))
            return
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != ALARM_INTENT
        ]
        fallback = ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 1.0}
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
