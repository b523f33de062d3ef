"""Matchers: which lexicon concepts occur where in a normalised message.

spaCy's PhraseMatcher (one word, by form and by lemma; fixed phrases) and Matcher
(patterns of several words) over a `Doc` built from the normalised words, whose lemmas
come from `bot.safety.normalise`. Standard library and spaCy only.
"""

from __future__ import annotations

from typing import Any

from bot.safety.lexicon import BOUNDARY, Lexicon
from bot.safety.normalise import Normaliser, Word

Spans = dict[str, list[tuple[int, int]]]


class Matchers:
    def __init__(self, lex: Lexicon, normaliser: Normaliser) -> None:
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        self.normaliser = normaliser
        vocab = normaliser.nlp.vocab
        self.vocab = vocab
        # One-word concepts: hash lookups on the word form and on the lemma.
        self.by_form = PhraseMatcher(vocab, attr="LOWER")
        self.by_lemma = PhraseMatcher(vocab, attr="LEMMA")
        for concept, words in lex.words.items():
            listed = sorted(words)
            self.by_form.add(concept, [Doc(vocab, words=[w]) for w in listed])
            self.by_lemma.add(concept, [Doc(vocab, words=[w], lemmas=[w]) for w in listed])
        # Several words in a row. One Matcher per required word: a pattern only runs when
        # the message holds one of the words it cannot match without (cheap: most
        # messages hold a few of them), which keeps a message near a millisecond.
        grouped: dict[frozenset[str] | None, list[tuple[str, list[dict[str, Any]]]]] = {}
        for concept, patterns in lex.sequences.items():
            for pattern in patterns:
                grouped.setdefault(_trigger(pattern), []).append((concept, pattern))
        self.sequences: list[tuple[frozenset[str] | None, Any]] = []
        by_words: dict[str, list[tuple[frozenset[str], Any]]] = {}
        for trigger, members in grouped.items():
            matcher = Matcher(vocab, validate=True)
            for concept, pattern in members:
                matcher.add(concept, [pattern])
            self.sequences.append((trigger, matcher))
            for word in trigger or ():
                by_words.setdefault(word, []).append((trigger, matcher))  # type: ignore[arg-type]
        self._always = [m for t, m in self.sequences if t is None]
        self._by_word = by_words
        self.phrases = PhraseMatcher(vocab, attr="LOWER")
        for concept, phrases in lex.phrases.items():
            docs = []
            for phrase in phrases:
                tokens = [w for w, _, _ in normaliser.words(phrase) if w != BOUNDARY]
                docs.append(Doc(vocab, words=tokens))
            self.phrases.add(concept, docs)

    def doc(self, words: list[Word]) -> Any:
        from spacy.tokens import Doc

        doc = Doc(self.vocab, words=[w for w, _, _ in words])
        lemma = self.normaliser.lemma
        for token in doc:
            token.lemma_ = BOUNDARY if token.text == BOUNDARY else lemma(token.text)
        return doc

    def find(self, doc: Any) -> Spans:
        """Concept -> the (start, end) token spans where it occurs."""
        found: Spans = {}
        strings = self.vocab.strings
        present = {t.lower_ for t in doc} | {t.lemma_ for t in doc}
        matchers = {id(m): m for m in self._always}
        for word in present:
            for _, matcher in self._by_word.get(word, ()):
                matchers[id(matcher)] = matcher
        matches = [*self.by_form(doc), *self.by_lemma(doc), *self.phrases(doc)]
        for matcher in matchers.values():
            matches += matcher(doc)
        for match_id, start, end in matches:
            found.setdefault(strings[match_id], []).append((start, end))
        return found


def _trigger(pattern: list[dict[str, Any]]) -> frozenset[str] | None:
    """The words (forms or lemmas) of the first token `pattern` cannot do without, or
    None when every token is optional or open."""
    for token in pattern:
        if token.get("OP") in ("?", "*"):
            continue
        for key in ("LOWER", "LEMMA"):
            value = token.get(key)
            if isinstance(value, str):
                return frozenset({value})
            if isinstance(value, dict) and "IN" in value:
                return frozenset(value["IN"])
    return None
