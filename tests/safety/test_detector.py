"""The rule layer on the committed safety test set, and how it reads children's writing.

The layered path (classifier + rule layer in the trained model) is tested in
test_layered.py; this file needs no Rasa and runs in seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

import pytest
import yaml

from bot.safety import lexicon
from bot.safety.detector import detect, detect_all, get_detector
from bot.settings import PROJECT_ROOT
from scripts.safety_report import (
    detector_figures,
    load_holdout,
    load_set,
    other_intent_examples,
)

ALARMS, CALM = load_set()
# The ceiling we hold ourselves to on the calm half (measured: 0 of 248).
FALSE_ALARM_CEILING = 0.01


@pytest.fixture(scope="module")
def figures() -> dict:
    return detector_figures()


def test_the_set_is_big_and_varied():
    assert len(ALARMS) >= 150 and len(CALM) >= 150
    categories = Counter(a["category"] for a in ALARMS)
    assert set(categories) <= set(lexicon.ALARM_CATEGORIES)
    assert min(categories.values()) >= 10, categories
    texts = [a["text"] for a in ALARMS] + CALM
    assert len(set(texts)) == len(texts), "duplicates in the safety set"

    def share(pattern: str, items: list[str]) -> int:
        return sum(bool(re.search(pattern, t)) for t in items)

    alarm_texts = [a["text"] for a in ALARMS]
    assert share(r"(^|\s)k\s", alarm_texts) >= 5, "children write 'k' for 'ik'"
    assert share(r"\bmn\b", alarm_texts) >= 10, "and 'mn' for 'mijn'"
    assert share(r"\b(my|me|i|he|want|hits|cut)\b.*\b(dad|mom|die|safe|myself|me)\b",
                 alarm_texts) >= 8, "English mixed in"
    assert share(r"[.!?]$", alarm_texts) <= len(alarm_texts) // 10, "mostly no punctuation"
    assert share(r"\bdood\b", CALM) >= 10, "figures of speech with 'dood'"


def test_recall_is_one_on_the_alarm_set(figures):
    assert figures["missed"] == [], figures["missed"]
    assert figures["recall"] == 1.0


def test_false_alarms_stay_under_the_ceiling(figures):
    print(f"\nrule layer: {len(figures['false_alarms'])} false alarms of {figures['calm']} "
          f"({figures['false_alarm_rate']:.1%}); category agreement "
          f"{figures['category_agreement']:.1%}; latency median "
          f"{figures['latency_ms_median']:.1f} ms, p95 {figures['latency_ms_p95']:.1f} ms")
    assert figures["false_alarm_rate"] <= FALSE_ALARM_CEILING, figures["false_alarms"]


def test_everyday_training_examples_stay_calm(figures):
    """The NLU examples of every other intent (wishes, people, yes/no...) are what
    children really answer; the rule layer must leave them alone."""
    assert figures["other_intent_examples"] >= 500
    offenders = figures["other_intent_false_alarms"]
    assert len(offenders) <= figures["other_intent_examples"] // 200, offenders


def test_the_lexicon_is_not_a_list_of_the_test_sentences():
    """Vocabulary and short patterns only: no sentence of the set is written into the
    rule layer, and none is a training example either."""
    # The data, not the comments (which quote a phrase to explain a pattern).
    data = yaml.safe_load(lexicon.LEXICON_PATH.read_text(encoding="utf-8"))
    source = " ".join(json.dumps(data, ensure_ascii=False).lower().split())
    examples = {" ".join(e.lower().split()) for e in _safety_examples()}
    lex = lexicon.load()
    vocabulary = lex.all_words() | {p for ps in lex.phrases.values() for p in ps}
    short_hits = []
    held_alarms, held_calm = load_holdout()
    for text in [a["text"] for a in [*ALARMS, *held_alarms]] + CALM + held_calm:
        normal = " ".join(text.lower().split())
        assert normal not in examples, f"a test sentence is a training example: {text!r}"
        if len(normal.split()) >= 3:
            assert normal not in source, f"a test sentence is in the lexicon: {text!r}"
        elif normal in vocabulary:
            short_hits.append(text)
    # One- or two-word messages can only be a single term ("self harm").
    assert len(short_hits) <= 3, short_hits


@pytest.mark.parametrize("text", [
    "ik ga dood van het lachen", "de bal hard slaan", "een blauwe plek van voetbal",
    "ik schrok me dood", "dodelijk saai", "ik verveel me dood", "doodmoe",
    "mijn pleegvader slaat me nooit", "ik voel me veilig hier", "ik wil geen eten ik zit vol",
])
def test_figures_of_speech_and_negations_are_calm(text):
    assert detect(text) is None, detect_all(text)


@pytest.mark.parametrize(("text", "category"), [
    ("mn stiefvader slaat me", "physical_abuse"),
    ("k word geslage", "physical_abuse"),           # "k", dropped final n
    ("hij slaad mij", "physical_abuse"),            # typo: edit distance 1
    ("HIJ SLAAT ME!!!", "physical_abuse"),          # capitals, punctuation
    ("ik wil dooooood", "suicide"),                 # repeated letters
    ("kwil dood", "suicide"),                       # glued words
    ("ik denk aan zelfmoort", "suicide"),           # typo in a long word
    ("ik ben verkragt", "sexual_abuse"),            # edit distance 2 from 8 letters
    ("me vader slaat mama", "domestic_violence"),   # "me" for "mijn"
    ("dr vriend slaat haar", "domestic_violence"),  # "dr" for "haar"
    ("i want to die", "suicide"),
])
def test_how_children_write(text, category):
    signal = detect(text)
    assert signal is not None and signal.category == category, detect_all(text)


def test_fuzzy_matching_leaves_real_words_alone():
    detector = get_detector()
    # "staat" and "slaapt" are one letter from "slaat" but real words.
    assert detect("mijn vader staat naast me") is None
    assert detect("mijn vader slaapt naast me") is None
    assert detector.is_known("staat") and detector.is_known("slaapt")


def test_the_signal_points_at_the_words_that_raised_it():
    text = "Vandaag was school leuk. Maar thuis slaat mijn vader me. Morgen is er gym."
    signal = detect(text)
    assert signal is not None
    assert text[signal.start:signal.end] == signal.excerpt
    assert "slaat mijn vader me" in signal.excerpt
    assert "school" not in signal.excerpt and "gym" not in signal.excerpt


def test_long_messages_are_read_quickly():
    text = ("ik vind voetbal leuk en ik wil een hond " * 2500)[:20_000] + " hij slaat me"
    signal = detect(text)
    # Past MAX_CHARS nothing is read: this alarm sits beyond 20 000 characters.
    assert signal is None
    assert detect(text[:19_000] + " hij slaat me") is not None


def test_importing_the_detector_is_cheap():
    """No spaCy, SQLAlchemy or cryptography at import: the NLU process imports it."""
    code = ("import sys, bot.safety.detector; "
            "print(sorted(m for m in ('spacy', 'sqlalchemy', 'cryptography') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True, timeout=120).stdout.strip()
    assert out == "[]"


def test_rules_only_use_known_concepts():
    from bot.safety.clauses import DERIVED
    from bot.safety.engine import NUMBER_CONCEPTS
    from bot.safety.rules import ALARM, RULES

    lex = lexicon.load()
    known = (set(lex.words) | set(lex.sequences) | set(lex.phrases) | set(DERIVED)
             | set(NUMBER_CONCEPTS))
    for rule in RULES:
        names = [n for need in (*rule.need, *rule.need_in_message)
                 for n in (need if isinstance(need, tuple) else (need,))]
        names += list(rule.block) + [c for c, _ in rule.block_after]
        names += [rule.negatable] if rule.negatable else []
        names += [rule.near[0]] if rule.near else []
        assert set(names) <= known, (rule.name, set(names) - known)
        names += list(rule.block_in_message)
        assert set(names) <= known, (rule.name, set(names) - known)
        assert rule.category in lexicon.CATEGORIES
        assert rule.category in (lexicon.ALARM_CATEGORIES if rule.tier == ALARM
                                 else lexicon.CONCERN_CATEGORIES), rule.name


def _safety_examples() -> list[str]:
    data = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "safety.yml").read_text())
    return [
        line.strip()[2:]
        for item in data["nlu"]
        for line in str(item.get("examples", "")).splitlines()
        if line.strip().startswith("- ")
    ]


def test_there_are_classifier_examples_and_everyday_examples():
    assert len(_safety_examples()) >= 100
    assert len(other_intent_examples()) >= 500
