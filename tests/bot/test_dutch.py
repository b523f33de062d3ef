"""The compact Dutch tables answer exactly as spaCy's own tables do."""

import pytest
from spacy.lookups import load_lookups
from spacy.util import load_language_data, registry

from bot import dutch
from bot.dutch import LemmaTable, WordSet


def test_every_form_has_the_lemma_spacys_table_gives() -> None:
    spacys = load_lookups("nl", ["lemma_lookup"]).get_table("lemma_lookup")
    forms = load_language_data(registry.lookups.get("nl")["lemma_lookup"])
    ours = dutch.dutch_lemmas()
    assert len(ours) == len(forms) > 200_000
    assert [f for f in forms if ours.get(f) != spacys.get(f) or f not in ours] == []
    for stranger in ("xyzzy", "", "Liep", "liep ", "ë"):
        assert stranger not in ours and ours.get(stranger) is None
    assert ours.get("liep") == "lopen" and ours.get("xyzzy", "x") == "x"


def test_word_sets_hold_the_lemma_index_words() -> None:
    index = load_language_data(registry.lookups.get("nl")["lemma_index"])
    verbs_and_adjectives = dutch.dutch_words("verb", "adj")
    expected = {str(w) for pos in ("verb", "adj") for w in index[pos]}
    assert len(verbs_and_adjectives) == len(expected)
    assert all(w in verbs_and_adjectives for w in expected)
    assert "lopen" in verbs_and_adjectives and "huis" not in verbs_and_adjectives
    assert "huis" in dutch.dutch_words("noun")
    assert dutch.dutch_words("verb", "adj") is verbs_and_adjectives  # built once


def test_hash_collisions_are_told_apart_by_the_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dutch, "hash", lambda word: len(word) % 2, raising=False)
    words = WordSet(["a", "bb", "c", "dd"])
    table = LemmaTable({"a": "x", "bb": "y", "c": "z"})
    assert all(w in words for w in ("a", "bb", "c", "dd"))
    assert "e" not in words and "ee" not in words and 1 not in words
    assert (table.get("a"), table.get("bb"), table.get("c")) == ("x", "y", "z")
    assert table.get("e") is None and table.get("dd") is None


def test_one_blank_pipeline_per_process() -> None:
    assert dutch.blank() is dutch.blank()
    assert [t.text for t in dutch.blank().make_doc("ik wil naar oma's huis")][:3] == [
        "ik", "wil", "naar"]
