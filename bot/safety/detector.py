"""The rule layer of safety detection: does this message signal danger, abuse, neglect,
self-harm, suicidal thoughts or exploitation (an alarm), or that a child is not doing
well (a concern)?

    >>> detect("mn stiefvader slaat me").category
    'physical_abuse'
    >>> assess("ik voel me zo alleen").tier
    'concern'

The public API (used by `bot.nlu.safety`, `bot.nlu.channel` and the reports). The work is
split along its seams:

- `bot.safety.normalise`  child spelling, lemmas, typo tolerance (capped per message)
- `bot.safety.matchers`   spaCy matchers: which concepts occur where
- `bot.safety.clauses`    clauses, derived concepts, negation
- `bot.safety.rules`      which concepts together make an alarm or a concern
- `bot.safety.engine`     runs it all and gives the verdict (tier, category, immediate)

Standard library, PyYAML and spaCy only: this module runs inside the Rasa NLU pipeline.
Nothing heavy happens at import; spaCy loads on first use.
"""

from __future__ import annotations

from bot.safety.engine import (
    EXCERPT_CHARS,
    MAX_CHARS,
    Analysis,
    Detector,
    SafetySignal,
    Verdict,
    get_detector,
    verdict_of,
)
from bot.safety.lexicon import BOUNDARY
from bot.safety.rules import ALARM, CONCERN

__all__ = [
    "ALARM", "BOUNDARY", "CONCERN", "EXCERPT_CHARS", "MAX_CHARS", "Analysis", "Detector",
    "SafetySignal", "Verdict", "analyse", "assess", "detect", "detect_all", "get_detector",
    "verdict_of",
]


def detect(text: str) -> SafetySignal | None:
    """The most urgent alarm signal in `text`, or None (calm or only a concern)."""
    return get_detector().detect(text)


def analyse(text: str) -> Analysis:
    """Alarm and concern signals plus whether the rules judged the message's words."""
    return get_detector().analyse(text)


def assess(text: str) -> Verdict:
    """What to do with `text`: nothing, a concern or an alarm (immediate or not)."""
    return get_detector().assess(text)


def detect_all(text: str) -> list[SafetySignal]:
    """Every alarm rule that fires (for reports and debugging), most urgent first."""
    return get_detector().detect_all(text)
