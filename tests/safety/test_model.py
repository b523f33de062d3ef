"""The learned layer of safety detection (`bot.safety.model`): trained on the current
sets, pure Python at run time, and combined with the rules as documented."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from bot.safety.detector import assess, get_detector
from bot.safety.engine import LEARNED_RULE, UNCLEAR
from bot.safety.model import (
    MODEL_PATH,
    NEVER_DEMOTED,
    Scores,
    combine,
    features,
    get_model,
    sentences,
)
from bot.settings import PROJECT_ROOT

WRITERS = PROJECT_ROOT / "tests" / "safety" / "writers"
LIMITS = {"alarm": 0.9, "worry": 0.3, "demote": 0.7, "immediate": 0.5,
          "short_words": 4, "worry_short": 0.7}


def _scores(alarm: float = 0.0, concern: float = 0.0, immediate: float = 0.0) -> Scores:
    return Scores(alarm, concern, 1.0 - alarm - concern, None, immediate)


def test_the_model_was_trained_on_the_current_sets():
    """Editing a training set, the featuriser or the trainer needs a retrain:
    `.venv-rasa/bin/python -m scripts.train_safety_model`."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from scripts.train_safety_model import SOURCES, fingerprint

    model = get_model()
    assert model is not None, f"no model at {MODEL_PATH}"
    assert model.fingerprint == fingerprint(), "retrain: scripts.train_safety_model"
    # The blind set is never a training source.
    assert all("blind" not in path.name for path in SOURCES.values())


def test_the_model_runs_without_scikit_learn_or_numpy():
    code = ("import sys; from bot.safety.model import get_model; m = get_model(); "
            "s = m.score('ik heb pillen genomen'); "
            "print(sorted(x for x in ('sklearn', 'numpy', 'scipy') if x in sys.modules), "
            "round(s.alarm + s.concern + s.calm, 6))")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True, timeout=120).stdout.strip()
    assert out == "[] 1.0"


def test_features_fold_spelling_and_keep_emoji():
    assert features("HEEEEL") == features("heel")
    assert features("één") == features("een")
    assert "w:🔪" in features("hij heeft een 🔪")


def test_a_long_message_is_scored_per_sentence():
    calm = "We gingen naar het strand. Het was leuk. " * 30
    model = get_model()
    assert model is not None
    text = calm + "Ik wil niet meer leven."
    assert len(sentences(text)) > 1
    assert model.score(text).worry > model.score(calm).worry


@pytest.mark.parametrize("category", sorted(NEVER_DEMOTED))
def test_a_rule_alarm_about_life_or_sexual_abuse_is_never_demoted(category: str):
    calm = _scores()
    assert combine("alarm", False, calm, LIMITS, False, 5, category, 1.0) == ("alarm", False)


def test_other_rule_alarms_become_a_concern_when_message_and_clause_are_calm():
    calm = _scores()
    assert combine("alarm", False, calm, LIMITS, False, 5, "physical_abuse", 1.0) == \
        ("concern", False)
    # The clause alone is worrying: the alarm stands.
    assert combine("alarm", False, calm, LIMITS, False, 5, "physical_abuse", 0.1) == \
        ("alarm", False)
    # Right now: it always stands.
    assert combine("alarm", True, calm, LIMITS, False, 5, "physical_abuse", 1.0) == \
        ("alarm", True)


def test_the_model_can_call_it_right_now_unless_the_message_is_in_the_past():
    now = _scores(alarm=0.95, immediate=0.9)
    assert combine(None, False, now, LIMITS, False, 5) == ("alarm", True)
    assert combine(None, False, now, LIMITS, True, 5) == ("alarm", False)
    assert combine("alarm", False, now, LIMITS, False, 5, "threat", 0.0) == ("alarm", True)


def test_a_short_answer_needs_more_worry_for_a_concern():
    worry = _scores(concern=0.5)
    assert combine(None, False, worry, LIMITS, False, 6) == ("concern", False)
    assert combine(None, False, worry, LIMITS, False, 2) == (None, False)
    assert combine("concern", False, _scores(), LIMITS, False, 2) == ("concern", False)


def _writer_items(tier: str) -> list[str]:
    texts = []
    for path in sorted(WRITERS.glob("w*.yml")):
        texts += [i["text"] for i in yaml.safe_load(path.read_text())[tier]]
    return texts


def test_the_learned_layer_speaks_where_the_rules_are_silent():
    """In the engine, the model catches the writers' alarms that no rule knows (as a
    concern or an alarm, category "unclear" for a concern) and leaves everyday answers
    alone. In-sample figures: they show the wiring; the honest figures are
    cross-validated (`scripts.train_safety_model --cv`, docs/safeguarding.md)."""
    detector = get_detector()
    missed_by_rules = [t for t in _writer_items("alarm")
                       if not detector.analyse(t, learned=False).signals
                       and not detector.analyse(t, learned=False).concerns]
    assert len(missed_by_rules) > 100
    caught = [assess(t) for t in missed_by_rules]
    assert sum(v.tier is not None for v in caught) / len(caught) >= 0.95
    learned = [v for v in caught if v.signal is not None and v.signal.rule == LEARNED_RULE]
    assert learned and all(v.category == UNCLEAR for v in learned if v.tier == "concern")

    everyday = yaml.safe_load((WRITERS / "everyday.yml").read_text())["calm"]
    verdicts = [assess(i["text"]) for i in everyday]
    assert not [v for v in verdicts if v.tier == "alarm"]
    assert sum(v.tier == "concern" for v in verdicts) / len(verdicts) <= 0.02
