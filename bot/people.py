"""Pick the important people out of a child's free answer ("mijn oma en mijn broertje
Daan"), so a child need not name them one by one; the bot then asks the child to
confirm what it understood.

spaCy without a trained model (none can be downloaded here): `spacy.blank("nl")` for
tokens, a PhraseMatcher over the role words of bot/lexicon/nl_people.yml (with their
typos and diminutives), spaCy's Dutch stop words, and the Dutch verbs and adjectives of
spacy-lookups-data's lemma index (with the inflection rules) to tell ordinary words from
names (nouns are not used: the noun index holds first names too, "daan", "lisa").
A name is a word after a role word ("juf sanne") or a capitalised word that is not an
ordinary word ("Daan"); in a short, list-like answer an unknown lower-case word counts
as a name too ("daan en oma"). Role words with one typo ("broetje") are still found.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from spacy.lang.nl.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Token

from bot import dutch

LEXICON = Path(__file__).resolve().parent / "lexicon" / "nl_people.yml"
# A list-like answer: at most this many tokens that are not punctuation or "en".
_SHORT_ANSWER = 8
_MIN_FUZZY_LENGTH = 5


@dataclass(frozen=True)
class FoundPerson:
    label: str  # as the child wrote it, with the name capitalised: "broertje Daan"
    name: str | None  # "Daan"
    role: str | None  # normalised role: "broer"


@dataclass(frozen=True)
class _Resources:
    nlp: Language
    matcher: PhraseMatcher
    variants: dict[str, str]  # lower-case variant -> role
    not_names: frozenset[str]
    known_words: dutch.WordSet


@functools.lru_cache(maxsize=1)
def _resources() -> _Resources:
    """Built on first use (a second or two: the Dutch pipeline and word lists, shared with
    the rest of the process through bot/dutch.py), then shared."""
    data: dict[str, Any] = yaml.safe_load(LEXICON.read_text())
    nlp = dutch.blank()
    variants = {
        variant.lower(): role for role, words in data["roles"].items() for variant in words
    }
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for role, words in data["roles"].items():
        matcher.add(role, [nlp.make_doc(str(word)) for word in words])
    not_names = frozenset(str(w).lower() for w in data["not_names"]) | STOP_WORDS
    return _Resources(nlp, matcher, variants, not_names, dutch.dutch_words("verb", "adj"))


def warm_up() -> None:
    """Load the lexicon and the Dutch word lists now rather than on the first answer."""
    _resources()


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        # One swap of neighbours ("borer" for "broer").
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


# Inflected verb forms back to the infinitive: "zie" -> "zien", "woont" -> "wonen".
_VERB_ENDINGS = (("", "n"), ("", "en"), ("t", "en"), ("t", "n"), ("de", "en"), ("te", "en"))


def _is_common(word: str, res: _Resources) -> bool:
    if word in res.not_names or word in res.known_words:
        return True
    for suffix, infinitive in _VERB_ENDINGS:
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)] if suffix else word
            if stem + infinitive in res.known_words:
                return True
            # Doubled vowel in the stem: "loop" -> "lopen".
            doubled = len(stem) > 2 and stem[-2] == stem[-3] and stem[-2] in "aeou"
            if doubled and stem[:-2] + stem[-1] + infinitive in res.known_words:
                return True
    return False


def _fuzzy_role(word: str, res: _Resources) -> str | None:
    if len(word) < _MIN_FUZZY_LENGTH or _is_common(word, res):
        return None
    for variant, role in res.variants.items():
        if " " not in variant and len(variant) >= _MIN_FUZZY_LENGTH and _edit_distance_at_most_one(
            word, variant
        ):
            return role
    return None


def _is_word(token: Token) -> bool:
    return token.is_alpha or (token.text.replace("'", "").replace("-", "").isalpha())


def _could_be_name(token: Token, res: _Resources, *, after_role: bool, list_like: bool) -> bool:
    lower = token.lower_
    if not _is_word(token) or lower in res.not_names or lower in res.variants:
        return False
    if len(lower) < 2:
        return False
    if after_role and token.text[:1].isupper():
        return True  # "vriendin Fleur", even though "fleur" is also a word
    if _is_common(lower, res):
        return False
    return after_role or list_like or token.text[:1].isupper()


def _display_name(text: str) -> str:
    return text[:1].upper() + text[1:]


def find_people(text: str) -> list[FoundPerson]:
    """The people named in a free answer, in the order the child wrote them."""
    res = _resources()
    doc: Doc = res.nlp.make_doc(text or "")
    words = [t for t in doc if _is_word(t) and t.lower_ != "en"]
    list_like = 0 < len(words) <= _SHORT_ANSWER

    # Role spans from the matcher, longest first, without overlaps.
    roles: dict[int, tuple[int, str]] = {}  # start token -> (end token, role)
    taken: set[int] = set()
    matches = sorted(res.matcher(doc), key=lambda m: (m[1], -(m[2] - m[1])))
    for match_id, start, end in matches:
        if any(i in taken for i in range(start, end)):
            continue
        roles[start] = (end, res.nlp.vocab.strings[match_id])
        taken.update(range(start, end))
    for token in doc:
        if token.i not in taken and _is_word(token):
            role = _fuzzy_role(token.lower_, res)
            if role is not None:
                roles[token.i] = (token.i + 1, role)
                taken.add(token.i)

    found: list[FoundPerson] = []
    i = 0
    while i < len(doc):
        if i in roles:
            end, role = roles[i]
            role_text = doc[i:end].text
            name = None
            if end < len(doc) and end not in roles and _could_be_name(
                doc[end], res, after_role=True, list_like=list_like
            ):
                name = _display_name(doc[end].text)
                end += 1
            label = f"{role_text} {name}" if name else role_text
            found.append(FoundPerson(label=label, name=name, role=role))
            i = end
            continue
        token = doc[i]
        if _could_be_name(token, res, after_role=False, list_like=list_like):
            name = _display_name(token.text)
            found.append(FoundPerson(label=name, name=name, role=None))
        i += 1

    unique: list[FoundPerson] = []
    seen: set[str] = set()
    for person in found:
        key = person.label.lower()
        if key not in seen:
            seen.add(key)
            unique.append(person)
    return unique


# The network circle's sectors (issue 11), from a person's role.
SECTORS = ("family", "foster_family", "friends", "school_sport", "professionals", "pets")
_SECTOR_OF = {
    **{role: "foster_family" for role in ("pleegmoeder", "pleegvader", "pleegouders",
                                          "pleegbroer", "pleegzus")},
    **{role: "friends" for role in ("vriend", "vriendin", "buurman", "buurvrouw", "buren")},
    **{role: "school_sport" for role in ("klasgenoot", "juf", "meester", "leraar", "trainer")},
    **{role: "professionals" for role in ("jeugdzorgwerker", "begeleider", "therapeut")},
    "huisdier": "pets",
}
SIBLING_ROLES = frozenset({"broer", "zus", "halfbroer", "halfzus", "stiefbroer", "stiefzus"})


def sector(role: str | None) -> str:
    """Own family unless the role says otherwise; a name alone counts as a friend."""
    if role is None:
        return "friends"
    return _SECTOR_OF.get(role, "family")


def is_sibling(role: str | None) -> bool:
    return role in SIBLING_ROLES
