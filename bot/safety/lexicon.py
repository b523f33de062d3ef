"""The safety detector's vocabulary, loaded from bot/lexicon/nl_safety.yml.

The words live in YAML (like the other lexicons in bot/lexicon/): spelling as children
type it, lemma fixes, concepts of one word, spaCy Matcher patterns of several words and
fixed phrases. This module turns the file into the structures bot.safety.detector
matches with. It reads the file on first use only (`load()`), so importing it costs
nothing; it runs in the Rasa NLU process (spaCy 3.4) and in the app (spaCy 3.8).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LEXICON_PATH = Path(__file__).resolve().parent.parent / "lexicon" / "nl_safety.yml"
# The second round's vocabulary (the two tiers; overdose, exploitation, runaway, drugs,
# threats; concerns), merged into the first: word lists are united, patterns added.
MORE_PATH = LEXICON_PATH.with_name("nl_safety_more.yml")

# Marks a clause boundary in the normalised words (punctuation, "en", "omdat"...).
BOUNDARY = "|"

# The categories a signal can carry, most urgent first: when several rules fire in a
# message, the signal carries the first.
ALARM_CATEGORIES: tuple[str, ...] = (
    "danger_now", "overdose", "suicide", "self_harm", "sexual_abuse", "exploitation",
    "domestic_violence", "physical_abuse", "threat", "runaway", "neglect", "drugs",
)
# A concern (the gentle tier): the child is not doing well, no danger named.
CONCERN_CATEGORIES: tuple[str, ...] = (
    "fear", "bullying", "home_worries", "mood", "lonely", "worthless", "unheard",
    "stress", "sleep", "anger", "eating",
)
CATEGORIES: tuple[str, ...] = ALARM_CATEGORIES + CONCERN_CATEGORIES

Pattern = list[dict[str, Any]]


@dataclass(frozen=True)
class Lexicon:
    spelling: dict[str, str]
    lemmas: dict[str, str]
    words: dict[str, frozenset[str]]
    clause_breaks: frozenset[str]
    clause_starters: frozenset[str]
    english_want_neighbours: frozenset[str]
    negation_cancellers: frozenset[str]
    merges: dict[tuple[str, str], str]
    possessed_nouns: frozenset[str]
    glued_prefixes: dict[str, str]
    glued_verbs: frozenset[str]
    sequences: dict[str, list[Pattern]]
    phrases: dict[str, list[str]]
    fuzzy_concepts: tuple[str, ...]
    fuzzy_min_length: int
    judged_concepts: frozenset[str]

    def all_words(self) -> frozenset[str]:
        """Every word the lexicon knows (concepts, spellings, lemma fixes)."""
        found: set[str] = set()
        for words in self.words.values():
            found |= words
        for value in self.spelling.values():
            found |= set(value.split())
        found |= set(self.lemmas) | set(self.lemmas.values())
        return frozenset(found)


def _strings(values: Any) -> list[str]:
    return [str(v) for v in values or []]


def _resolve(names: Any, named: dict[str, frozenset[str]]) -> list[str]:
    """`in: NAME` or `in: [NAME, NAME]` -> the sorted union of those word lists."""
    found: set[str] = set()
    for name in [names] if isinstance(names, str) else names:
        if name not in named:
            raise ValueError(f"{LEXICON_PATH.name}: unknown word list {name!r}")
        found |= named[name]
    return sorted(found)


def _token(spec: dict[str, Any], named: dict[str, frozenset[str]]) -> dict[str, Any]:
    token: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "word":
            token["LOWER"] = {"IN": _strings(value)} if isinstance(value, list) else str(value)
        elif key == "lemma":
            token["LEMMA"] = {"IN": _strings(value)} if isinstance(value, list) else str(value)
        elif key == "in":
            token["LOWER"] = {"IN": _resolve(value, named)}
        elif key == "lemma_in":
            token["LEMMA"] = {"IN": _resolve(value, named)}
        elif key == "op":
            token["OP"] = str(value)
        elif key != "any":
            raise ValueError(f"{LEXICON_PATH.name}: unknown token key {key!r}")
    return token


def parse(data: dict[str, Any]) -> Lexicon:
    words = {name: frozenset(_strings(values)) for name, values in data["words"].items()}
    lists = {name: frozenset(_strings(values)) for name, values in data["lists"].items()}
    named = {**words, **lists}
    sequences = {
        name: [[_token(spec, named) for spec in pattern] for pattern in patterns]
        for name, patterns in data["sequences"].items()
    }
    return Lexicon(
        spelling={str(k): str(v) for k, v in data["spelling"].items()},
        lemmas={str(k): str(v) for k, v in data["lemmas"].items()},
        words=words,
        clause_breaks=frozenset(_strings(data["clause_breaks"])),
        clause_starters=frozenset(_strings(data["clause_starters"])),
        english_want_neighbours=frozenset(_strings(data["english_want_neighbours"])),
        negation_cancellers=frozenset(_strings(data["negation_cancellers"])),
        merges={(str(a), str(b)): str(c) for a, b, c in data["merges"]},
        possessed_nouns=frozenset(_strings(data["possessed_nouns"])),
        glued_prefixes={str(k): str(v) for k, v in data["glued"]["prefixes"].items()},
        glued_verbs=frozenset(_strings(data["glued"]["verbs"])),
        sequences=sequences,
        phrases={name: _strings(values) for name, values in data["phrases"].items()},
        fuzzy_concepts=tuple(_strings(data["fuzzy"]["concepts"])),
        fuzzy_min_length=int(data["fuzzy"]["min_length"]),
        judged_concepts=frozenset(_strings(data["judged_concepts"])),
    )


def merge(base: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """`more` added to `base`: word lists united, patterns and phrases appended."""
    out = dict(base)
    for key in ("words", "lists"):
        merged = {k: list(v or []) for k, v in (base.get(key) or {}).items()}
        for name, values in (more.get(key) or {}).items():
            merged[name] = list(dict.fromkeys([*merged.get(name, []), *(values or [])]))
        out[key] = merged
    for key in ("sequences", "phrases"):
        merged = {k: list(v or []) for k, v in (base.get(key) or {}).items()}
        for name, values in (more.get(key) or {}).items():
            merged[name] = [*merged.get(name, []), *(values or [])]
        out[key] = merged
    for key in ("spelling", "lemmas"):
        out[key] = {**(base.get(key) or {}), **(more.get(key) or {})}
    for key in ("judged_concepts", "clause_breaks", "possessed_nouns"):
        out[key] = list(dict.fromkeys([*(base.get(key) or []), *(more.get(key) or [])]))
    out["merges"] = [*(base.get("merges") or []), *(more.get("merges") or [])]
    fuzzy = dict(base["fuzzy"])
    fuzzy["concepts"] = list(
        dict.fromkeys([*fuzzy["concepts"], *((more.get("fuzzy") or {}).get("concepts") or [])])
    )
    out["fuzzy"] = fuzzy
    return out


def read_data() -> dict[str, Any]:
    data = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))
    if MORE_PATH.exists():
        data = merge(data, yaml.safe_load(MORE_PATH.read_text(encoding="utf-8")) or {})
    return data


@lru_cache(maxsize=1)
def load() -> Lexicon:
    return parse(read_data())
