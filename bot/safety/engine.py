"""The engine: normalise, match, cut into clauses, fire the rules, give a verdict.

    >>> assess("ik heb pillen genomen")
    Verdict(tier='alarm', category='overdose', immediate=True, ...)

Two tiers (`bot.safety.rules`): an `alarm` (danger, abuse, self-harm, suicidal thoughts,
exploitation...: helplines and an urgent alert) and a `concern` (sad, lonely, scared,
bullied, worried about home: a gentle answer, no urgent alert). An alarm is
`immediate` when its rule speaks of danger right now (pills taken, hurt right now,
locked in, a weapon now) and the message does not place it in the past ("gisteren",
"vorig jaar"): the bot then says "bel nu 112" first.

The spaCy pipeline and tables load on first use (about 2 s) and are cached per process.
Standard library, PyYAML and spaCy only: this module runs inside the Rasa NLU pipeline.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from bot.safety import clauses as clause_logic
from bot.safety import lexicon
from bot.safety.clauses import Clause
from bot.safety.matchers import Matchers
from bot.safety.model import combine, get_model, word_count
from bot.safety.normalise import Normaliser
from bot.safety.rules import ALARM, CONCERN, RULES, Rule

# Only this much of a message is read (a child's message is far shorter; a 100 KB paste
# is read up to here, which keeps the reply fast).
MAX_CHARS = 20_000
EXCERPT_CHARS = 200
# A signal of the learned layer: its rule name, and its category when the model cannot
# tell which kind of danger it is.
LEARNED_RULE = "learned"
UNCLEAR = "unclear"

# Concepts that place a clause in the past ("gisteren", "vorig jaar", "toen ik klein
# was") or right now ("nu", "net", "zojuist").
_PAST = "PAST"
_NOW = "NOW"
_NOT_NOW = frozenset({"PAST", "FUTURE"})
_HELP = "HELP"
# Number words around a typed number ("20 pillen", "hij is 28", "ik ben pas 13").
_ADULT_MARKERS = frozenset({"hij", "is", "van", "man", "gast", "vriend", "vriendje",
                            "jongen", "hem", "he", "guy"})
_CHILD_MARKERS = frozenset({"ik", "ben", "pas", "im"})
NUMBER_CONCEPTS = ("MANY", "ADULT_AGE", "CHILD_AGE")


@dataclass(frozen=True)
class SafetySignal:
    """A detected signal: what kind, which rule, where in the text, how urgent."""

    category: str
    rule: str
    start: int
    end: int
    excerpt: str
    tier: str = ALARM
    immediate: bool = False


@dataclass(frozen=True)
class Analysis:
    """The alarm signals in a message (most urgent first), its concern signals, and
    whether it holds words the rules know how to judge (harm, fear, food, touch): such a
    message without a signal was judged calm on purpose."""

    signals: list[SafetySignal]
    judged: bool
    concerns: list[SafetySignal] = field(default_factory=list)
    # The message places what it says in the past ("gisteren") and not right now.
    past: bool = False


@dataclass(frozen=True)
class Verdict:
    """What the bot does with a message: nothing (tier None), a concern or an alarm."""

    tier: str | None
    category: str | None = None
    immediate: bool = False
    signal: SafetySignal | None = None
    judged: bool = False

    @property
    def alarm(self) -> bool:
        return self.tier == ALARM

    @property
    def concern(self) -> bool:
        return self.tier == CONCERN


def verdict_of(analysis: Analysis) -> Verdict:
    if analysis.signals:
        first = analysis.signals[0]
        return Verdict(ALARM, first.category, any(s.immediate for s in analysis.signals),
                       first, analysis.judged)
    if analysis.concerns:
        first = analysis.concerns[0]
        return Verdict(CONCERN, first.category, False, first, analysis.judged)
    return Verdict(None, judged=analysis.judged)


def _numbers(doc: Any, found: dict[str, list[tuple[int, int]]]) -> None:
    """Typed numbers as concepts: MANY ("20 pillen"), ADULT_AGE ("hij is 28", "een man
    van 35") and CHILD_AGE ("ik ben 13")."""
    for token in doc:
        text = token.text
        if not text.isdigit() or len(text) > 3:
            continue
        n = int(text)
        i = token.i
        before = {t.text for t in doc[max(0, i - 3) : i]}
        if n >= 5:
            found.setdefault("MANY", []).append((i, i + 1))
        if 18 <= n <= 80 and before & _ADULT_MARKERS and not before & {"ik", "groep"}:
            found.setdefault("ADULT_AGE", []).append((i, i + 1))
        if 6 <= n <= 17 and before & _CHILD_MARKERS and "ik" in before:
            found.setdefault("CHILD_AGE", []).append((i, i + 1))


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _cached_detector() -> Detector:
    return Detector()


def get_detector() -> Detector:
    """The process-wide detector, built on first use (thread-safe)."""
    with _LOCK:
        return _cached_detector()


class Detector:
    def __init__(self) -> None:
        from bot import dutch

        self.lex = lex = lexicon.load()
        self.nlp = dutch.blank()
        self.normaliser = Normaliser(lex, self.nlp)
        self.matchers = Matchers(lex, self.normaliser)
        self._order = {c: i for i, c in enumerate((*lexicon.CATEGORIES, UNCLEAR))}
        self.model = get_model()
        # Rules indexed by the concepts of their first need: a clause is only checked
        # against rules whose first need it holds.
        self._rules_by_concept: dict[str, list[tuple[int, Rule]]] = {}
        for index, rule in enumerate(RULES):
            first = rule.need[0]
            for option in first if isinstance(first, tuple) else (first,):
                self._rules_by_concept.setdefault(option, []).append((index, rule))

    # Kept for callers and tests that ask the detector directly.
    def is_known(self, word: str) -> bool:
        return self.normaliser.is_known(word)

    def lemma(self, word: str) -> str:
        return self.normaliser.lemma(word)

    def _negated(self, doc: Any, clause: Clause, position: int) -> bool:
        return clause_logic.negated(
            doc, clause, position, verbs=self.normaliser.verbs,
            cancellers=self.lex.negation_cancellers,
        )

    def _fires(self, rule: Rule, doc: Any, clause: Clause, in_message: set[str]) -> bool:
        c = clause.concepts
        for need in rule.need:
            options = need if isinstance(need, tuple) else (need,)
            if not any(o in c for o in options):
                return False
        if any(b in c for b in rule.block):
            return False
        if any(b in in_message for b in rule.block_in_message):
            return False
        for need in rule.need_in_message:
            options = need if isinstance(need, tuple) else (need,)
            if not any(o in in_message for o in options):
                return False
        if rule.block_after or rule.near is not None:
            first = rule.need[0]
            anchors = [p for o in (first if isinstance(first, tuple) else (first,))
                       for p in c.get(o, [])]
            for concept, window in rule.block_after:
                blockers = c.get(concept, [])
                if any(a < b <= a + window for a in anchors for b in blockers):
                    return False
            if rule.near is not None:
                concept, window = rule.near
                if not any(abs(a - b) <= window for a in anchors for b in c.get(concept, [])):
                    return False
        if rule.negatable:
            anchors = c.get(rule.negatable, [])
            if anchors and all(self._negated(doc, clause, p) for p in anchors):
                return False
        return True

    def _parse(self, text: str) -> tuple[list[tuple[str, int, int]], Any, list[Clause]]:
        words = self.normaliser.words(text)
        doc = self.matchers.doc(words)
        found = self.matchers.find(doc)
        _numbers(doc, found)
        clauses = clause_logic.split(doc, found)
        return words, doc, clauses

    def analyse(self, text: str, *, learned: bool = True) -> Analysis:
        """The rules' signals, and the learned layer's when `learned` (the default)."""
        text = (text or "")[:MAX_CHARS]
        if not text.strip():
            return Analysis([], False)
        words, doc, clauses = self._parse(text)
        in_message = {c for clause in clauses for c in clause.concepts}
        past_in_message = bool(_NOT_NOW & in_message)
        alarms: list[SafetySignal] = []
        concerns: list[SafetySignal] = []
        now_in_message = bool({_NOW, _HELP} & in_message)
        for clause in clauses:
            now = _NOW in clause.concepts or (
                now_in_message and not clause.concepts.keys() & _NOT_NOW
            )
            past = bool(_NOT_NOW & clause.concepts.keys()) or (past_in_message and not now)
            candidates: dict[int, Rule] = {}
            for concept in clause.concepts:
                candidates.update(self._rules_by_concept.get(concept, ()))
            for _, rule in sorted(candidates.items(), key=lambda item: item[0]):
                if not self._fires(rule, doc, clause, in_message):
                    continue
                start = words[clause.start][1]
                end = words[clause.end - 1][2]
                excerpt = text[start:end].strip()[:EXCERPT_CHARS]
                immediate = rule.tier == ALARM and (
                    (rule.immediate and not past) or (rule.immediate_if_now and now)
                )
                signal = SafetySignal(rule.category, rule.name, start, end, excerpt,
                                      rule.tier, immediate)
                (alarms if rule.tier == ALARM else concerns).append(signal)
        past = past_in_message and not now_in_message
        if learned:
            self._learned(text, alarms, concerns, past,
                          bool(in_message & self.lex.judged_concepts))
        order = self._order
        alarms.sort(key=lambda s: (not s.immediate, order[s.category], s.start))
        concerns.sort(key=lambda s: (order[s.category], s.start))
        return Analysis(alarms, bool(in_message & self.lex.judged_concepts), concerns, past)

    def _learned(self, text: str, alarms: list[SafetySignal],
                 concerns: list[SafetySignal], past: bool, judged: bool) -> None:
        """The learned layer (`bot.safety.model`) beside the rules, in place: see
        `bot.safety.model.combine` for how the two verdicts make one."""
        if self.model is None:
            return
        scores = self.model.score(text)
        rule_tier = ALARM if alarms else CONCERN if concerns else None
        rule_now = any(s.immediate for s in alarms)
        first = alarms[0] if alarms else None
        # The rule's clause is scored only when a demotion can happen at all (a
        # probability is at most 1; the shipped threshold, 1.01, switches it off).
        can_demote = self.model.thresholds["demote"] <= 1.0
        clause_calm = (self.model.score(text[first.start:first.end]).calm
                       if first is not None and can_demote else None)
        tier, now = combine(rule_tier, rule_now, scores, self.model.thresholds, past,
                            word_count(text), first.category if first else None, clause_calm,
                            judged)
        if tier == rule_tier and now == rule_now:
            return
        if rule_tier == ALARM:
            if tier == CONCERN:
                concerns[:0] = [replace(s, tier=CONCERN, immediate=False) for s in alarms]
                alarms.clear()
            else:
                alarms[0] = replace(alarms[0], immediate=now)
            return
        excerpt = text.strip()[:EXCERPT_CHARS]
        category = scores.category if scores.category in self._order else None
        if tier == ALARM:
            alarm_category = category if category in lexicon.ALARM_CATEGORIES else UNCLEAR
            alarms.append(SafetySignal(alarm_category, LEARNED_RULE, 0, len(text), excerpt,
                                       ALARM, now))
        elif tier == CONCERN and not concerns:
            # Unclear on purpose: a question to the child, never counted as a second
            # concern (actions/safety.py).
            concerns.append(SafetySignal(UNCLEAR, LEARNED_RULE, 0, len(text), excerpt,
                                         CONCERN))

    def assess(self, text: str) -> Verdict:
        return verdict_of(self.analyse(text))

    def detect_all(self, text: str) -> list[SafetySignal]:
        return self.analyse(text).signals

    def detect(self, text: str) -> SafetySignal | None:
        signals = self.detect_all(text)
        return signals[0] if signals else None

    def explain(self, text: str) -> list[tuple[list[str], dict[str, list[int]]]]:
        """The words and concepts per clause (for debugging the lexicon)."""
        _, doc, clauses = self._parse((text or "")[:MAX_CHARS])
        return [([t.text for t in doc[c.start : c.end]], c.concepts) for c in clauses]
