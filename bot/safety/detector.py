"""The rule layer of safety detection: does this message signal danger, abuse, neglect,
self-harm or suicidal thoughts?

    >>> detect("mn stiefvader slaat me").category
    'physical_abuse'

How it reads a message, the way children write it:

1. spaCy's Dutch tokenizer (`spacy.blank("nl")`), then each token is normalised: child
   spelling ("k" -> "ik", "mn"/"me vader" -> "mijn vader", "dr" -> "haar"), repeated
   letters ("dooood"), glued words ("kwil", "ikwil"), a dropped final n ("geslage"), and
   for an unknown word of 5+ letters, the nearest key word within edit distance 1 (2 from
   8 letters: "zelfmoort", "verkragt"). "Known" means listed in spaCy's Dutch lookup
   tables (spacy-lookups-data), its stop words or our lexicon.
2. Lemmas come from the same lookup tables, so "sloeg", "geslagen" and "slaat" are one.
3. Punctuation and conjunctions ("en", "maar", "want", "omdat") split the message into
   clauses; children leave out punctuation, so conjunctions matter.
4. spaCy's Matcher and PhraseMatcher mark concepts (`bot.safety.lexicon`), and the rules
   (`bot.safety.rules`) look for combinations inside one clause, with blockers for
   figures of speech ("dood van het lachen", "de bal hard slaan") and negation
   ("mijn pleegvader slaat me nooit").

The spaCy pipeline and tables load on first use (about 2 s) and are cached per process.
Standard library and spaCy only: this module runs inside the Rasa NLU pipeline too.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.safety import lexicon
from bot.safety.rules import RULES, Rule

BOUNDARY = lexicon.BOUNDARY
# Only this much of a message is read (a child's message is far shorter; a 100 KB paste
# is read up to here, which keeps the reply fast).
MAX_CHARS = 20_000
EXCERPT_CHARS = 200

_PIECE = re.compile(r"[\w']+|[^\w\s]", re.UNICODE)
_BREAK_PUNCT = set(".,!?;:…()[]{}\"/\\|<>“”„\n")
_JOINERS = set("-_'*#@&+=~^`’‘")
_LAUGH_EMOJI = {"😂", "🤣", "😆", "😹", "😅"}
_REPEATS = re.compile(r"(.)\1{2,}")
# Words the normaliser itself treats specially (the rest of the vocabulary is in YAML).
_LAUGH = "haha"
_OBJECT_ME = frozenset({"me", "mij"})
_MY = "mijn"
_BUT = "maar"
_AND = "en"
_WANT = "want"
_DOUBLES = re.compile(r"(.)\1")


@dataclass(frozen=True)
class SafetySignal:
    """A detected danger signal: what kind, which rule, and where in the text."""

    category: str
    rule: str
    start: int
    end: int
    excerpt: str


@dataclass(frozen=True)
class Analysis:
    """All signals in a message (most urgent first), and whether it holds words the rules
    know how to judge (harm, fear, food, touch): such a message without a signal was
    judged calm on purpose."""

    signals: list[SafetySignal]
    judged: bool


@dataclass
class _Clause:
    start: int  # token indices, end exclusive
    end: int
    concepts: dict[str, list[int]]  # concept -> token positions


def detect(text: str) -> SafetySignal | None:
    """The most urgent signal in `text`, or None when the message reads as calm."""
    return get_detector().detect(text)


def analyse(text: str) -> Analysis:
    """Signals plus whether the rules judged the message's words (see Analysis)."""
    return get_detector().analyse(text)


def detect_all(text: str) -> list[SafetySignal]:
    """Every rule that fires (for reports and debugging), most urgent first."""
    return get_detector().detect_all(text)


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _cached_detector() -> Detector:
    return Detector()


def get_detector() -> Detector:
    """The process-wide detector, built on first use (thread-safe)."""
    with _LOCK:
        return _cached_detector()


def _osa_distance(a: str, b: str, limit: int) -> int:
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


class Detector:
    def __init__(self) -> None:
        import spacy
        from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
        from spacy.lang.nl.stop_words import STOP_WORDS
        from spacy.lookups import load_lookups
        from spacy.matcher import Matcher, PhraseMatcher

        self.lex = lex = lexicon.load()
        self.nlp = spacy.blank("nl")
        lookups = load_lookups("nl", ["lemma_lookup", "lemma_exc", "lemma_index"])
        self._lookup = lookups.get_table("lemma_lookup")
        exc = lookups.get_table("lemma_exc")
        index = lookups.get_table("lemma_index")
        self._exceptions: dict[str, str] = {}
        for pos in ("verb", "noun", "adj", "adv", "pron", "det", "adp"):
            for form, lemmas in (exc.get(pos) or {}).items():
                if lemmas:
                    self._exceptions.setdefault(form, lemmas[0])
        self._verbs: frozenset[str] = frozenset(index.get("verb") or ())
        lexicon_words = set(lex.all_words())
        self._known: frozenset[str] = frozenset(
            lexicon_words
            | set(STOP_WORDS)
            | set(ENGLISH_STOP_WORDS)  # children mix English in; never "fix" those words
            | set(self._exceptions)
            | {w for pos in ("noun", "verb", "adj", "adp", "det") for w in (index.get(pos) or ())}
        )
        self._lexicon_words = frozenset(lexicon_words)
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
        self._fuzzy_targets = sorted(targets)
        self._fuzzy = lru_cache(maxsize=8192)(self._fuzzy_uncached)

        from spacy.tokens import Doc

        # One-word concepts: hash lookups on the word form and on the lemma.
        self.by_form = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.by_lemma = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        for concept, words in lex.words.items():
            listed = sorted(words)
            self.by_form.add(concept, [Doc(self.nlp.vocab, words=[w]) for w in listed])
            self.by_lemma.add(
                concept, [Doc(self.nlp.vocab, words=[w], lemmas=[w]) for w in listed]
            )
        # Several words in a row.
        self.matcher = Matcher(self.nlp.vocab, validate=True)
        for concept, patterns in lex.sequences.items():
            self.matcher.add(concept, patterns)
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for concept, phrases in lex.phrases.items():
            docs = []
            for phrase in phrases:
                tokens = [w for w, _, _ in self._words(phrase) if w != BOUNDARY]
                docs.append(Doc(self.nlp.vocab, words=tokens))
            self.phrases.add(concept, docs)

    # --- normalisation -------------------------------------------------------------------
    def is_known(self, word: str) -> bool:
        return word.isdigit() or word in self._known or word in self._lookup

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
        for target in self._fuzzy_targets:
            if abs(len(target) - len(word)) > limit:
                continue
            distance = _osa_distance(word, target, limit)
            if distance <= limit and (best is None or distance < best[0]):
                best = (distance, target)
        return None if best is None else best[1]

    def _normalise(self, piece: str) -> list[str]:
        """One typed word -> the word(s) it stands for."""
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
        if len(word) >= self.lex.fuzzy_min_length and word.isalpha():
            fixed = self._fuzzy(word)
            if fixed:
                return [fixed]
        return [word]

    def _words(self, text: str) -> list[tuple[str, int, int]]:
        """Normalised words with their character span in `text`; BOUNDARY between clauses."""
        lex = self.lex
        raw: list[tuple[str, int, int]] = []
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
                    raw.extend((w, start, end) for w in self._normalise(piece))
            if "\n" in token.whitespace_ or (token.text.isspace() and "\n" in token.text):
                raw.append((BOUNDARY, token.idx, token.idx))
        words: list[tuple[str, int, int]] = []
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

    # --- matching --------------------------------------------------------------------------
    def _doc(self, words: list[tuple[str, int, int]]) -> Any:
        from spacy.tokens import Doc

        doc = Doc(self.nlp.vocab, words=[w for w, _, _ in words])
        for token in doc:
            token.lemma_ = BOUNDARY if token.text == BOUNDARY else self.lemma(token.text)
        return doc

    def _clauses(self, doc: Any) -> tuple[list[_Clause], set[str]]:
        found: dict[str, list[tuple[int, int]]] = {}
        matches = [
            *self.by_form(doc), *self.by_lemma(doc), *self.matcher(doc), *self.phrases(doc)
        ]
        for match_id, start, end in matches:
            found.setdefault(self.nlp.vocab.strings[match_id], []).append((start, end))
        bounds = [i for i, token in enumerate(doc) if token.text == BOUNDARY]
        clauses: list[_Clause] = []
        begin = 0
        for stop in bounds:
            if stop > begin:
                concepts: dict[str, list[int]] = {}
                for concept, spans in found.items():
                    positions = sorted({s for s, _ in spans if begin <= s < stop})
                    if positions:
                        concepts[concept] = positions
                clause = _Clause(begin, stop, concepts)
                self._derive(doc, clause)
                clauses.append(clause)
            begin = stop + 1
        in_message = {c for clause in clauses for c in clause.concepts}
        return clauses, in_message

    @staticmethod
    def _derive(doc: Any, clause: _Clause) -> None:
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

    def _negated(self, doc: Any, clause: _Clause, position: int) -> bool:
        negators = set(clause.concepts.get("NEG", []))
        for n in range(max(clause.start, position - 3), position):
            if n in negators:
                between = doc[n + 1 : position]
                if not any(t.lemma_ in self._verbs for t in between):
                    before = doc[n - 1].lemma_ if n > clause.start else ""
                    if before not in self.lex.negation_cancellers:
                        return True
        return any(n in negators for n in range(position + 1, min(clause.end, position + 3)))

    def _fires(
        self, rule: Rule, doc: Any, clause: _Clause, in_message: set[str]
    ) -> bool:
        c = clause.concepts
        for need in rule.need:
            options = need if isinstance(need, tuple) else (need,)
            if not any(o in c for o in options):
                return False
        if any(b in c for b in rule.block):
            return False
        for need in rule.need_in_message:
            options = need if isinstance(need, tuple) else (need,)
            if not any(o in in_message for o in options):
                return False
        if rule.block_after:
            first = rule.need[0]
            anchors = [p for o in (first if isinstance(first, tuple) else (first,))
                       for p in c.get(o, [])]
            for concept, window in rule.block_after:
                blockers = c.get(concept, [])
                if any(a < b <= a + window for a in anchors for b in blockers):
                    return False
        if rule.near is not None:
            first = rule.need[0]
            anchors = [p for o in (first if isinstance(first, tuple) else (first,))
                       for p in c.get(o, [])]
            concept, window = rule.near
            if not any(abs(a - b) <= window for a in anchors for b in c.get(concept, [])):
                return False
        if rule.negatable:
            anchors = c.get(rule.negatable, [])
            if anchors and all(self._negated(doc, clause, p) for p in anchors):
                return False
        return True

    def analyse(self, text: str) -> Analysis:
        text = (text or "")[:MAX_CHARS]
        if not text.strip():
            return Analysis([], False)
        words = self._words(text)
        doc = self._doc(words)
        clauses, in_message = self._clauses(doc)
        signals: list[SafetySignal] = []
        for clause in clauses:
            for rule in RULES:
                if self._fires(rule, doc, clause, in_message):
                    start = words[clause.start][1]
                    end = words[clause.end - 1][2]
                    excerpt = text[start:end].strip()[:EXCERPT_CHARS]
                    signals.append(SafetySignal(rule.category, rule.name, start, end, excerpt))
        order = {category: i for i, category in enumerate(lexicon.CATEGORIES)}
        signals.sort(key=lambda s: (order[s.category], s.start))
        return Analysis(signals, bool(in_message & self.lex.judged_concepts))

    def detect_all(self, text: str) -> list[SafetySignal]:
        return self.analyse(text).signals

    def detect(self, text: str) -> SafetySignal | None:
        signals = self.detect_all(text)
        return signals[0] if signals else None

    def explain(self, text: str) -> list[tuple[list[str], dict[str, list[int]]]]:
        """The words and concepts per clause (for debugging the lexicon)."""
        words = self._words((text or "")[:MAX_CHARS])
        doc = self._doc(words)
        clauses, _ = self._clauses(doc)
        return [([t.text for t in doc[c.start : c.end]], c.concepts) for c in clauses]
