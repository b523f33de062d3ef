"""The Dutch language resources of a process, loaded once and shared: spaCy's blank
Dutch pipeline, and the word forms and lemmas of spacy-lookups-data in a few megabytes.

The safety detector, the wish topics and the people finder each made their own: a
`spacy.blank("nl")` each (about 13 MB after the first), spaCy's `Table` of the 213,000
Dutch forms (`lemma_lookup`, about 70 MB: a Python dict plus a Bloom filter) in two of
them, and the lemma index (200,000 words by part of speech) as Python sets in two. Shared
and packed, they take 66 MB less of the action server and 56 MB less of Rasa
(ARCHITECTURE.md, Performance, round 6). Here each list is sorted by the words' hashes
into an `array` (8 bytes a word), and the words (and lemmas) are packed into a UTF-8
blob with their end offsets. A look-up is a binary search on the hash (`bisect`) and a
check of the word, a few microseconds.

Standard library and spaCy only: Rasa's environment (`bot.nlu.safety`) uses it too.
The pipeline's vocabulary is shared: the users only tokenise (`make_doc`, `tokenizer`)
and add matcher labels to its strings.
"""

from __future__ import annotations

import functools
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from typing import Any


class WordSet:
    """A read-only set of words: `word in words`."""

    def __init__(self, words: Iterable[str]) -> None:
        self._fill(sorted(set(words), key=hash))

    def _fill(self, by_hash: list[str]) -> None:
        self._hashes = array("q", map(hash, by_hash))
        self._blob, self._ends = _pack(by_hash)

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._index(word) >= 0

    def _index(self, word: str) -> int:
        h = hash(word)
        i = bisect_left(self._hashes, h)
        while i < len(self._hashes) and self._hashes[i] == h:
            if _unpack(self._blob, self._ends, i) == word:
                return i
            i += 1
        return -1


class LemmaTable(WordSet):
    """form -> lemma: `get` and `in` like the dict it was made from."""

    def __init__(self, pairs: Mapping[str, str]) -> None:
        by_hash = sorted(pairs, key=hash)
        self._fill(by_hash)
        self._lemmas, self._lemma_ends = _pack(pairs[form] for form in by_hash)

    def get(self, word: str, default: str | None = None) -> str | None:
        i = self._index(word)
        return default if i < 0 else _unpack(self._lemmas, self._lemma_ends, i)


def _pack(words: Iterable[str]) -> tuple[bytes, array[int]]:
    blob = bytearray()
    ends = array("q")
    for word in words:
        blob += word.encode()
        ends.append(len(blob))
    return bytes(blob), ends


def _unpack(blob: bytes, ends: array[int], i: int) -> str:
    return blob[ends[i - 1] if i else 0:ends[i]].decode()


@functools.lru_cache(maxsize=1)
def blank() -> Any:
    """`spacy.blank("nl")`: tokens and a vocabulary, no trained model."""
    import spacy

    return spacy.blank("nl")


def _table(name: str) -> Any:
    from spacy.util import load_language_data, registry

    return load_language_data(registry.lookups.get("nl")[name])


@functools.lru_cache(maxsize=1)
def dutch_lemmas() -> LemmaTable:
    """form -> lemma (`lemma_lookup`), built on first use (about half a second)."""
    return LemmaTable(_table("lemma_lookup"))


@functools.cache
def dutch_words(*parts_of_speech: str) -> WordSet:
    """The lemmas of these parts of speech (`lemma_index`: "noun", "verb", "adj", "adp",
    "det"), one set per combination asked for."""
    index = _table("lemma_index")
    return WordSet(str(word) for pos in parts_of_speech for word in index.get(pos) or ())
