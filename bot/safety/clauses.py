"""Clauses: a message cut where children start a new thought, and what each holds.

Punctuation, line breaks and conjunctions ("en", "maar", "want", "omdat"; marked as
BOUNDARY by `bot.safety.normalise`) split a message; children leave out punctuation,
so the conjunctions matter. Each clause gets the concepts found in it, plus a few
derived ones (listed in `bot.safety.rules`), and `negated` tells whether a concept is
negated ("mijn pleegvader slaat me nooit"). Standard library only.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from bot.safety.lexicon import BOUNDARY

# Derived concepts (computed here, not listed in the lexicon).
DERIVED = frozenset({
    "TOUCH_ANY", "HARM_DO_ANY", "HIT_ANY", "DV_TARGET", "I_HIT", "ME_REFLEXIVE",
})


@dataclass
class Clause:
    start: int  # token indices, end exclusive
    end: int
    concepts: dict[str, list[int]]  # concept -> token positions


def split(doc: Any, found: dict[str, list[tuple[int, int]]]) -> list[Clause]:
    bounds = [i for i, token in enumerate(doc) if token.text == BOUNDARY]
    clauses: list[Clause] = []
    begin = 0
    for stop in bounds:
        if stop > begin:
            concepts: dict[str, list[int]] = {}
            for concept, spans in found.items():
                positions = sorted({s for s, _ in spans if begin <= s < stop})
                if positions:
                    concepts[concept] = positions
            clause = Clause(begin, stop, concepts)
            derive(clause)
            clauses.append(clause)
        begin = stop + 1
    return clauses


def derive(clause: Clause) -> None:
    c = clause.concepts
    if "IN_ELKAAR" in c:
        # "in elkaar slaan" (beat up) is not "each other".
        idiom = {p + 1 for p in c["IN_ELKAAR"]}
        for name in ("EACH_OTHER", "OTHER_VICTIM"):
            kept = [p for p in c.get(name, []) if p not in idiom]
            if kept:
                c[name] = kept
            else:
                c.pop(name, None)

    def positions(*names: str) -> list[int]:
        return sorted({p for n in names for p in c.get(n, [])})

    if "TOUCH" in c or ("TOUCH_PART" in c and "AAN" in c):
        c["TOUCH_ANY"] = positions("TOUCH", "TOUCH_PART")
    if "HARM_DO_FULL" in c or ("HARM_DO_PART" in c and "DO" in c):
        c["HARM_DO_ANY"] = positions("HARM_DO_FULL", "HARM_DO_PART")
    hit = positions("HIT", "MISTREAT") + (positions("HIT_WEAK") if "FORCE" in c else [])
    if hit:
        c["HIT_ANY"] = sorted(set(hit))
    people = positions("PERSON_HOME", "PERSON_OTHER", "HE_SHE", "OTHER_VICTIM")
    if "EACH_OTHER" in c or "THIRD_OBJ" in c or len(people) >= 2:
        c["DV_TARGET"] = people or positions("EACH_OTHER")
    others = set(positions("HE_SHE", "PERSON_HOME", "PERSON_OTHER"))
    reflexive = [
        m for m in c.get("ME", []) for i in c.get("I", [])
        if 0 < m - i <= 3 and not any(i < o < m for o in others)
    ]
    if reflexive:
        c["ME_REFLEXIVE"] = reflexive
    me = set(c.get("I", []))
    hitting = positions("HIT", "HIT_WEAK", "THROW", "HIT_TYPO")
    if any(p - 1 in me or p + 1 in me for p in hitting):
        c["I_HIT"] = [p for p in hitting if p - 1 in me or p + 1 in me]


def negated(
    doc: Any, clause: Clause, position: int, *, verbs: Container[str],
    cancellers: frozenset[str],
) -> bool:
    """Is the word at `position` negated inside its clause ("slaat me nooit", "niet
    geslagen"), unless a verb stands between or the negation is cancelled ("hij stopt
    niet met slaan")?"""
    negators = set(clause.concepts.get("NEG", []))
    for n in range(max(clause.start, position - 3), position):
        if n in negators:
            between = doc[n + 1 : position]
            if not any(t.lemma_ in verbs for t in between):
                before = doc[n - 1].lemma_ if n > clause.start else ""
                if before not in cancellers:
                    return True
    return any(n in negators for n in range(position + 1, min(clause.end, position + 3)))
