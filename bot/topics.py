"""Topics of a wish ("ik wil op voetbal blijven" -> hobby) and which part of the
interview a child wants to redo ("ik wil mijn wensen veranderen" -> wishes).

spaCy without a trained model: `spacy.blank("nl")` tokens, lemmas from the Dutch lookup
table of spacy-lookups-data (both shared, bot/dutch.py), and the keyword lists of
bot/lexicon/nl_topics.yml, matched on the lemma or as part of a compound word. When
nothing matches, the bot asks the child with buttons.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from spacy.language import Language

from bot import dutch

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
GENERAL = "algemeen"
# Compound parts shorter than this are not matched inside words ("kat" in "kattenkwaad").
_MIN_PART = 4


@dataclass(frozen=True)
class _Resources:
    nlp: Language
    lemmas: dutch.LemmaTable
    wish_topics: dict[str, frozenset[str]]
    redo_steps: dict[str, frozenset[str]]


@functools.lru_cache(maxsize=1)
def _resources() -> _Resources:
    topics: dict[str, Any] = yaml.safe_load((LEXICON_DIR / "nl_topics.yml").read_text())
    people: dict[str, Any] = yaml.safe_load((LEXICON_DIR / "nl_people.yml").read_text())
    wish_topics = {topic: frozenset(words) for topic, words in topics["wish_topics"].items()}
    roles = {
        str(variant).lower()
        for role, variants in people["roles"].items()
        if role != "huisdier"
        for variant in variants
        if " " not in str(variant)
    }
    wish_topics["contact"] = wish_topics["contact"] | frozenset(roles)
    return _Resources(
        nlp=dutch.blank(),
        lemmas=dutch.dutch_lemmas(),
        wish_topics=wish_topics,
        redo_steps={step: frozenset(words) for step, words in topics["redo_steps"].items()},
    )


WISH_TOPICS = ("wonen", "contact", "school", "hobby", "toekomst", "inspraak")


def _words(text: str, res: _Resources) -> list[str]:
    words = []
    for token in res.nlp.make_doc((text or "").lower()):
        if token.is_alpha:
            words.append(token.text)
            lemma = res.lemmas.get(token.text)
            if lemma and lemma != token.text:
                words.append(str(lemma))
    return words


def _hits(words: list[str], keywords: frozenset[str]) -> int:
    count = 0
    for word in words:
        in_compound = len(word) > _MIN_PART + 1 and any(
            len(k) >= _MIN_PART and (word.startswith(k) or word.endswith(k)) for k in keywords
        )
        if word in keywords or in_compound:
            count += 1
    return count


def _best(words: list[str], table: dict[str, frozenset[str]]) -> str | None:
    scores = {name: _hits(words, keywords) for name, keywords in table.items()}
    best = max(scores.values(), default=0)
    if best == 0:
        return None
    return next(name for name in table if scores[name] == best)


def wish_topic(text: str) -> str | None:
    """The topic of a wish, or None when the words do not tell (then ask the child)."""
    res = _resources()
    return _best(_words(text, res), res.wish_topics)


def redo_step(text: str) -> str | None:
    """The interview step a child wants to redo, or None when not named."""
    res = _resources()
    return _best(_words(text, res), res.redo_steps)


def warm_up() -> None:
    _resources()
