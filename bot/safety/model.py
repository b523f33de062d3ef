"""The learned layer of safety detection: a linear model over character and word n-grams
that says how likely a message is an alarm, a concern or calm.

The rule layer (`bot.safety.engine`) knows the concepts and how they combine; it is
precise, but a child can say the same thing in words no rule was written for. This layer
was trained on about five thousand messages written by six authors who never saw the
rules (`tests/safety/dev_set.yml`, `tests/safety/safety_set.yml` and
`tests/safety/writers/`; never on `tests/safety/blind_set.yml`), and it generalises
across spelling and phrasing through character n-grams. It can raise a concern (a gentle
answer) on its own; it raises an alarm (an urgent alert) only when it is very sure. The
thresholds were chosen on writers the model was not trained on (leave one writer out:
`scripts/train_safety_model.py`).

Pure Python at run time (a dictionary of weights), so it runs the same in the Rasa
process and in the app. The weights are `bot/safety/model.json.gz`, written by

    .venv-rasa/bin/python -m scripts.train_safety_model

and `tests/safety/test_model.py` checks that they were trained on the current sets.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODEL_PATH = Path(__file__).resolve().parent / "model.json.gz"

# A message is scored as a whole and per sentence (a disclosure in one line of a long
# message is not diluted by the rest); the highest score counts.
_SENTENCE = re.compile(r"(?<=[.!?\n;])\s+|\n+")
_REPEAT = re.compile(r"(.)\1{2,}")
MAX_SENTENCES = 40
CHAR_N = (3, 4, 5)


def _fold(text: str) -> str:
    """Lower case, accents off, letters repeated three times or more kept twice, and
    every symbol that is not a letter or digit a space (emoji stay, as words)."""
    text = unicodedata.normalize("NFKD", text.lower())
    out: list[str] = []
    for ch in text:
        if ch.isalnum():
            out.append(ch)
        elif unicodedata.combining(ch):
            continue
        elif unicodedata.category(ch) == "So":
            out.append(f" {ch} ")
        else:
            out.append(" ")
    return _REPEAT.sub(r"\1\1", "".join(out))


def features(text: str) -> set[str]:
    """Word unigrams and bigrams, and character 3- to 5-grams inside each word. (The
    rule layer's concepts as extra features were tried: +0.5 points of recall, at the
    price of retraining on every lexicon change and of two layers that fail alike.)"""
    words = _fold(text).split()
    found: set[str] = set()
    for i, word in enumerate(words):
        found.add("w:" + word)
        if i:
            found.add(f"b:{words[i - 1]} {word}")
        padded = f" {word} "
        for n in CHAR_N:
            for j in range(len(padded) - n + 1):
                found.add("c:" + padded[j : j + n])
    return found


def sentences(text: str) -> list[str]:
    parts = [p for p in _SENTENCE.split(text) if p.strip()]
    return parts[:MAX_SENTENCES]


def word_count(text: str) -> int:
    return len(_fold(text).split())


@dataclass(frozen=True)
class Scores:
    """Probabilities per tier for the most worrying part of a message."""

    alarm: float
    concern: float
    calm: float
    category: str | None
    immediate: float

    @property
    def worry(self) -> float:
        """Alarm or concern: anything but calm."""
        return self.alarm + self.concern


class SafetyModel:
    def __init__(self, data: dict) -> None:  # type: ignore[type-arg]
        self.classes: list[str] = data["classes"]
        self.intercept: list[float] = data["intercept"]
        self.weights: dict[str, list[float]] = data["weights"]
        self.categories: list[str] = data["categories"]
        self.category_intercept: list[float] = data["category_intercept"]
        self.category_weights: dict[str, list[float]] = data["category_weights"]
        self.immediate_intercept: float = data["immediate_intercept"]
        self.immediate_weights: dict[str, float] = data["immediate_weights"]
        self.thresholds: dict[str, float] = data["thresholds"]
        self.fingerprint: str = data["fingerprint"]

    @staticmethod
    def _linear(feats: set[str], intercept: list[float],
                weights: dict[str, list[float]]) -> list[float]:
        scale = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        totals = list(intercept)
        for f in feats:
            row = weights.get(f)
            if row is not None:
                for k, w in enumerate(row):
                    totals[k] += w * scale
        return totals

    @staticmethod
    def _softmax(values: list[float]) -> list[float]:
        top = max(values)
        exps = [math.exp(v - top) for v in values]
        total = sum(exps)
        return [e / total for e in exps]

    def _score_one(self, text: str) -> tuple[list[float], set[str]]:
        feats = features(text)
        return self._softmax(self._linear(feats, self.intercept, self.weights)), feats

    def score(self, text: str) -> Scores:
        parts = sentences(text)
        candidates = [text] + (parts if len(parts) > 1 else [])
        best: tuple[list[float], set[str]] | None = None
        calm = self.classes.index("calm")
        for part in candidates:
            probs, feats = self._score_one(part)
            if best is None or probs[calm] < best[0][calm]:
                best = (probs, feats)
        assert best is not None
        probs, feats = best
        by_class = dict(zip(self.classes, probs, strict=True))
        category_scores = self._linear(feats, self.category_intercept,
                                       self.category_weights)
        category = self.categories[max(range(len(category_scores)),
                                       key=category_scores.__getitem__)]
        scale = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        logit = self.immediate_intercept + scale * sum(
            self.immediate_weights.get(f, 0.0) for f in feats)
        immediate = 1.0 / (1.0 + math.exp(-logit))
        return Scores(by_class.get("alarm", 0.0), by_class.get("concern", 0.0), by_class["calm"],
                      category, immediate)


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _load(path: Path = MODEL_PATH) -> SafetyModel | None:
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return SafetyModel(json.load(handle))


def get_model() -> SafetyModel | None:
    """The trained model, or None when none was trained (the rules work alone)."""
    with _LOCK:
        return _load()


# A rule's alarm in these categories always stands: a life may be at stake, or a child
# is abused or exploited sexually.
NEVER_DEMOTED = frozenset({"danger_now", "overdose", "suicide", "self_harm", "sexual_abuse",
                           "exploitation"})


def combine(rule_tier: str | None, rule_immediate: bool, scores: Scores,
            limits: dict[str, float], past: bool, words: int,
            rule_category: str | None = None,
            clause_calm: float | None = None, judged: bool = True) -> tuple[str | None, bool]:
    """The verdict (tier, immediate) from the rules' and the model's:

    - the rules found an alarm right now, or one about life and death
      (`NEVER_DEMOTED`): it stands;
    - the rules found another alarm: when the model is sure both the message and the
      rule's clause (`clause_calm`) are calm it becomes a concern (a gentle answer;
      "nee" to "gaat het?" still makes it an alarm), and the model may call it "right
      now" (112 first);
    - no alarm from the rules: the model raises one when it is very sure, else a concern
      when it sees worry (or the rules found one); a short answer ("mama en papa",
      "niemand") needs more worry than a sentence, and so does a message without any
      word the rules know how to judge (`judged`: harm, fear, food, touch...), which is
      what most interview answers are ("dat ik meer zelf wil beslissen").
    """
    now = scores.immediate >= limits["immediate"] and not past
    if rule_tier == "alarm":
        if rule_immediate:
            return "alarm", True
        calm = scores.calm if clause_calm is None else min(scores.calm, clause_calm)
        if calm >= limits["demote"] and rule_category not in NEVER_DEMOTED:
            return "concern", False
        return "alarm", now
    if scores.alarm >= limits["alarm"]:
        return "alarm", now
    worry = limits["worry"] if words >= limits["short_words"] else limits["worry_short"]
    if not judged:
        worry = max(worry, limits["worry_unjudged"])
    if rule_tier == "concern" or scores.worry >= worry:
        return "concern", False
    return None, False
