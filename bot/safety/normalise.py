"""Normalisation: a child's typed text -> the words it stands for, with their spans.

Child spelling ("k" -> "ik", "mn"/"me vader" -> "mijn vader", "dr" -> "haar"),
repeated letters ("dooood"), glued words ("kwil", "ikwil"), a dropped final n
("geslage"), and for an unknown word of 5+ letters the nearest key word within edit
distance 1 (2 from 8 letters: "zelfmoort", "verkragt"). "Known" means listed in spaCy's
Dutch lookup tables (spacy-lookups-data), its stop words or our lexicon. Lemmas come
from the same tables, so "sloeg", "geslagen" and "slaat" are one.

Fuzzy look-ups are capped per message (`MAX_FUZZY_PER_MESSAGE`): a flood of unknown
words costs a bounded amount of work. Standard library and spaCy only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from bot.safety import lexicon
from bot.safety.lexicon import BOUNDARY, Lexicon

# At most this many unknown words per message get a fuzzy look-up (the first ones: a
# child's disclosure is short, a flood of nonsense words is not worth the time).
MAX_FUZZY_PER_MESSAGE = 12

_PIECE = re.compile(r"[\w']+|[^\w\s]", re.UNICODE)
_BREAK_PUNCT = set(".,!?;:…()[]{}\"/\\|<>“”„\n")
_JOINERS = set("-_'*#@&+=~^`’‘")
_LAUGH_EMOJI = {"😂", "🤣", "😆", "😹", "😅"}
_REPEATS = re.compile(r"(.)\1{2,}")
_DOUBLES = re.compile(r"(.)\1")
# Words the normaliser itself treats specially (the rest of the vocabulary is in YAML).
_LAUGH = "haha"
_OBJECT_ME = frozenset({"me", "mij"})
_MY = "mijn"
_BUT = "maar"
_AND = "en"
_WANT = "want"

Word = tuple[str, int, int]


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two letters counts once), capped."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        row_min = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
            row_min = min(row_min, cur[j])
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Normaliser:
    """Spelling, lemmas and typo tolerance, from the lexicon and spaCy's Dutch tables."""

    def __init__(self, lex: Lexicon, nlp: Any) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
        from spacy.lang.nl.stop_words import STOP_WORDS
        from spacy.lookups import load_lookups

        from bot.dutch import dutch_lemmas, dutch_words

        self.lex = lex
        self.nlp = nlp
        self._lookup = dutch_lemmas()
        exc = load_lookups("nl", ["lemma_exc"]).get_table("lemma_exc")
        self._exceptions: dict[str, str] = {}
        for pos in ("verb", "noun", "adj", "adv", "pron", "det", "adp"):
            for form, lemmas in (exc.get(pos) or {}).items():
                if lemmas:
                    self._exceptions.setdefault(form, lemmas[0])
        self.verbs = dutch_words("verb")
        lexicon_words = set(lex.all_words())
        self._known: frozenset[str] = frozenset(
            lexicon_words
            | set(STOP_WORDS)
            | set(ENGLISH_STOP_WORDS)  # children mix English in; never "fix" those words
            | set(self._exceptions)
        )
        self._known_lemmas = dutch_words("noun", "verb", "adj", "adp", "det")
        # Lemmas as the lexicon spells them (concept words and override targets).
        self._canonical = frozenset(set().union(*lex.words.values()) | set(lex.lemmas.values()))
        self._stop_words = frozenset(STOP_WORDS)
        targets: set[str] = set()
        for concept in lex.fuzzy_concepts:
            targets |= {w for w in lex.words[concept] if len(w) >= lex.fuzzy_min_length}
        fuzzy_lemmas = set().union(*(lex.words[c] for c in lex.fuzzy_concepts))
        targets |= {
            form for form, lemma in lex.lemmas.items()
            if lemma in fuzzy_lemmas and len(form) >= lex.fuzzy_min_length
        }
        # Bucketed by length: a look-up only compares words of a near length.
        self._fuzzy_by_length: dict[int, list[str]] = {}
        for target in sorted(targets):
            self._fuzzy_by_length.setdefault(len(target), []).append(target)
        self.fuzzy = lru_cache(maxsize=8192)(self._fuzzy_uncached)

    def is_known(self, word: str) -> bool:
        return (word.isdigit() or word in self._known or word in self._lookup
                or word in self._known_lemmas)

    def lemma(self, word: str) -> str:
        if word in self.lex.lemmas:
            return self.lex.lemmas[word]
        if word in self._stop_words:
            return word  # the tables read "in" as a form of "innen"
        found = self._exceptions.get(word) or self._lookup.get(word)
        if not isinstance(found, str):
            return word
        if found in self._canonical or word not in self._canonical:
            return found
        # Our own words are canonical when the tables disagree ("oog" is not "ogen").
        return word

    def _fuzzy_uncached(self, word: str) -> str | None:
        limit = 1 if len(word) < 8 else 2
        best: tuple[int, str] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            for target in self._fuzzy_by_length.get(length, ()):
                # A typo keeps the first, second or last letter: skip the rest cheaply.
                if (target[0] != word[0] and target[1] != word[1]
                        and target[-1] != word[-1]):
                    continue
                distance = osa_distance(word, target, limit)
                if distance <= limit and (best is None or distance < best[0]):
                    best = (distance, target)
        return None if best is None else best[1]

    def normalise(self, piece: str, budget: list[int]) -> list[str]:
        """One typed word -> the word(s) it stands for. `budget` holds the fuzzy
        look-ups this message may still make."""
        spelling = self.lex.spelling
        if piece in spelling:
            return spelling[piece].split()
        word = piece.replace("'", "")
        if not word:
            return []
        if word in spelling:
            return spelling[word].split()
        word = _REPEATS.sub(r"\1\1", word)
        if not self.is_known(word):
            single = _DOUBLES.sub(r"\1", word)
            if single != word and self.is_known(single):
                word = single
        if word in spelling:
            return spelling[word].split()
        if self.is_known(word):
            return [word]
        for prefix, meaning in self.lex.glued_prefixes.items():
            rest = word[len(prefix):]
            if word.startswith(prefix) and (
                rest in self.lex.glued_verbs or rest in self.lex.possessed_nouns
            ):
                return [meaning, rest]
        if len(word) >= 4 and word.endswith("e") and self.is_known(word + "n"):
            return [word + "n"]  # a dropped final n: "geslage", "leve"
        if len(word) >= self.lex.fuzzy_min_length and word.isalpha() and budget[0] > 0:
            budget[0] -= 1
            fixed = self.fuzzy(word)
            if fixed:
                return [fixed]
        return [word]

    def words(self, text: str) -> list[Word]:
        """Normalised words with their character span in `text`; BOUNDARY between
        clauses (punctuation, line breaks, conjunctions)."""
        lex = self.lex
        budget = [MAX_FUZZY_PER_MESSAGE]
        raw: list[Word] = []
        for token in self.nlp.tokenizer(text):
            lowered = token.text.lower().replace("’", "'").replace("‘", "'")
            for match in _PIECE.finditer(lowered):
                piece = match.group()
                start = token.idx + match.start()
                end = token.idx + match.end()
                if piece in _LAUGH_EMOJI:
                    raw.append((_LAUGH, start, end))
                elif len(piece) == 1 and not piece.isalnum():
                    if piece in _BREAK_PUNCT or piece not in _JOINERS:
                        raw.append((BOUNDARY, start, end))
                else:
                    raw.extend((w, start, end) for w in self.normalise(piece, budget))
            if "\n" in token.whitespace_ or (token.text.isspace() and "\n" in token.text):
                raw.append((BOUNDARY, token.idx, token.idx))
        words: list[Word] = []
        for i, (word, start, end) in enumerate(raw):
            nxt = raw[i + 1][0] if i + 1 < len(raw) else BOUNDARY
            prev = words[-1][0] if words else BOUNDARY
            if word in _OBJECT_ME and nxt in lex.possessed_nouns:
                word = _MY
            merged = lex.merges.get((prev, word))
            if merged:
                words[-1] = (merged, words[-1][1], end)
                continue
            if word == _AND and nxt in _OBJECT_ME | {"ons"} and (
                i + 2 >= len(raw) or raw[i + 2][0] == BOUNDARY
            ):
                pass  # "hij slaat de hond en ons": one clause
            elif (
                word in lex.clause_breaks
                or (word == _BUT and nxt in lex.clause_starters)
                or (
                    word == _WANT
                    and prev not in lex.english_want_neighbours
                    and nxt not in {"to", "a", "an"}
                )
            ):
                word = BOUNDARY
            if word == BOUNDARY and prev == BOUNDARY:
                continue
            words.append((word, start, end))
        if not words or words[-1][0] != BOUNDARY:
            words.append((BOUNDARY, len(text), len(text)))
        return words


def build(lex: Lexicon | None = None) -> Normaliser:
    from bot import dutch

    return Normaliser(lex or lexicon.load(), dutch.blank())
