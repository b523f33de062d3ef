"""Safety in the NLU pipeline: the rule layer's verdict (`bot.safety.detector`) over the
classifier.

Runs last, so its verdict wins over whatever the classifier or the command parser made
of a message, at any point in the conversation: before linking, mid-form, inside a free
answer, inside the safety check itself.

- An **alarm** becomes intent `safety_alarm` (confidence 1.0) with entities
  `safety_tier` ("alarm"), `safety_category` and, for danger right now,
  `safety_immediate` ("yes"): the bot then says "bel nu 112" first.
- A **concern** becomes intent `safety_concern` with `safety_tier` ("concern") and
  `safety_category`: a gentle answer, no urgent alert (actions/safety.py).
- A concern **of unclear kind** (no rule named it: the learned layer or the classifier
  alone, category "unclear") on a message that would otherwise be an answer
  (`ANSWER_INTENTS`) becomes intent `safety_unclear`. A form takes it as the answer to
  its question and adds one gentle line (actions/base.py); outside a form it gets the
  same question as any unclear concern (data/rules/safety.yml). The rest of the intent
  ranking is the message without the concern, and the actions read answers by it
  (`actions.common.latest_intent`). On "stop", "help", "hoi" and the other
  interruptions it stays `safety_concern`: it leaves the form, as before.

The detector runs once per message. Our REST channel (`bot.nlu.channel`) already runs it
before Rasa and passes the verdict on in the message metadata (`VERDICT_KEY`); this
component uses that verdict and scans only when there is none (`rasa test`, `rasa
shell`). The channel always overwrites the key, so a client cannot send its own.

The classifier layer (`safety_alarm` examples in data/nlu/safety.yml) speaks for
phrasings the rules do not know. It counts only when it is confident
(`classifier_min_confidence`) and the rule layer did not judge the message itself, and it
only ever raises a **concern**: an urgent alert needs the rules' evidence or the child's
own "nee" to "ben je nu veilig?". The classifier's own `safety_concern` guesses are
dropped (on the dev set they were nearly all everyday answers); that intent's examples
only keep the classifier from reading such messages as something else.
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

from bot.safety.detector import ALARM, CONCERN, assess, get_detector
from bot.safety.verdict import VERDICT_KEY, from_metadata

ALARM_INTENT = "safety_alarm"
CONCERN_INTENT = "safety_concern"
UNCLEAR_INTENT = "safety_unclear"
SAFETY_INTENTS = (ALARM_INTENT, CONCERN_INTENT, UNCLEAR_INTENT)
# What a form reads as an answer (every other intent interrupts a form:
# scripts/gen_form_rules.py; tests/test_consistency.py keeps the two apart). Only on
# these does an unclear concern stay inside the form.
ANSWER_INTENTS = frozenset({"affirm", "deny", "dont_know", "skip", "inform", "choose",
                            "thanks", "nlu_fallback"})
CATEGORY_ENTITY = "safety_category"
TIER_ENTITY = "safety_tier"
IMMEDIATE_ENTITY = "safety_immediate"
SAFETY_ENTITIES = (CATEGORY_ENTITY, TIER_ENTITY, IMMEDIATE_ENTITY)
# What the classifier alone says when the rules are silent (no category known).
UNCLEAR_CATEGORY = "unclear"
# Button payloads and slash commands ("/affirm", '/inform{"x": 1}') are not typed words.
_PAYLOAD = re.compile(r"^\s*/\w+(\{.*\})?\s*$", re.S)

__all__ = ["ALARM_INTENT", "CONCERN_INTENT", "UNCLEAR_INTENT", "SafetyDetector",
           "VERDICT_KEY"]


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
            verdict = from_metadata(message.get("metadata"))
            if verdict is None:
                found = assess(text)
                verdict = {
                    "tier": found.tier, "category": found.category,
                    "immediate": found.immediate, "judged": found.judged,
                    "start": found.signal.start if found.signal else None,
                    "end": found.signal.end if found.signal else None,
                }
            guess = (message.get(INTENT) or {}).get("name")
            if verdict["tier"] in (ALARM, CONCERN):
                self._mark(message, verdict)
            elif guess == ALARM_INTENT:
                self._check_classifier(message, text, judged=bool(verdict.get("judged")))
            elif guess == CONCERN_INTENT:
                # Measured on the dev set: the classifier's own concern guesses were
                # nearly all everyday answers, so only the rules raise a concern.
                self._drop_classifier_guess(message)
        return messages

    def _mark(self, message: Message, verdict: dict[str, Any]) -> None:
        tier = str(verdict["tier"])
        category = str(verdict.get("category") or UNCLEAR_CATEGORY)
        intent = ALARM_INTENT if tier == ALARM else CONCERN_INTENT
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != intent
        ]
        if tier == CONCERN and category == UNCLEAR_CATEGORY:
            # What the message is without the concern: the classifier's own safety
            # guesses are dropped, as they would have been (_drop_classifier_guess).
            ranking = [r for r in ranking if r.get("name") not in SAFETY_INTENTS]
            answer = ranking[0]["name"] if ranking else "nlu_fallback"
            if answer in ANSWER_INTENTS:
                intent = UNCLEAR_INTENT
        top = {"name": intent, "confidence": 1.0}
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        text = message.get(TEXT) or ""
        start = verdict.get("start")
        end = verdict.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end:
            start, end = 0, len(text)
        entities = [
            e for e in message.get(ENTITIES) or [] if e.get("entity") not in SAFETY_ENTITIES
        ]
        values = [(TIER_ENTITY, tier), (CATEGORY_ENTITY, category)]
        if tier == ALARM and verdict.get("immediate"):
            values.append((IMMEDIATE_ENTITY, "yes"))
        for name, value in values:
            entities.append({
                "entity": name, "value": value, "start": start, "end": end,
                "confidence_entity": 1.0, "extractor": "SafetyDetector",
            })
        message.set(ENTITIES, entities, add_to_output=True)

    def _check_classifier(self, message: Message, text: str, *, judged: bool) -> None:
        confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
        if confidence >= self.min_confidence and not judged:
            self._mark(message, {"tier": CONCERN, "category": UNCLEAR_CATEGORY})
            return
        self._drop_classifier_guess(message)

    @staticmethod
    def _drop_classifier_guess(message: Message) -> None:
        """A safety intent the classifier guessed without the rules: the next intent."""
        if (message.get(INTENT) or {}).get("name") not in SAFETY_INTENTS:
            return
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or []
            if r.get("name") not in SAFETY_INTENTS
        ]
        fallback = ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 1.0}
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
