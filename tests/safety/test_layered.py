"""Recall through the full layered path: the trained model's NLU (classifier with the
safety_alarm examples, then bot.nlu.safety.SafetyDetector) in .venv-rasa, spaCy 3.4.

Marked e2e: it needs the trained model (bot.model.ensure_model) and loads it once
(scripts/safety_report.py --model), which takes about half a minute.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from bot.model import ensure_model, rasa_env
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
# Ceilings we actually achieve (see the report printed by this test).
LAYERED_FALSE_ALARM_CEILING = 0.02
OTHER_EXAMPLES_FALSE_ALARM_CEILING = 0.01


@pytest.fixture(scope="module")
def report() -> dict:
    model = ensure_model()
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", "scripts.safety_report", "--model", str(model), "--json"],
        cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def test_the_rule_layer_works_under_spacy_34_too(report):
    detector = report["detector"]
    assert detector["recall"] == 1.0, detector["missed"]
    assert detector["false_alarms"] == [], detector["false_alarms"]


def test_recall_is_one_through_the_layered_path(report):
    layered = report["layered"]
    print(f"\nlayered: recall {layered['recall']:.3f}, false alarms "
          f"{len(layered['false_alarms'])} ({layered['false_alarm_rate']:.1%}), "
          f"classifier-only alarms {layered['classifier_only_alarms']}, everyday examples "
          f"raising an alarm {len(layered['other_intent_false_alarms'])} of "
          f"{layered['other_intent_examples']}")
    assert layered["missed"] == []
    assert layered["recall"] == 1.0


def test_the_classifier_does_not_make_everyday_answers_misfire(report):
    layered = report["layered"]
    assert layered["false_alarm_rate"] <= LAYERED_FALSE_ALARM_CEILING, layered["false_alarms"]
    others = layered["other_intent_false_alarms"]
    assert len(others) <= layered["other_intent_examples"] * OTHER_EXAMPLES_FALSE_ALARM_CEILING, (
        others)


@pytest.fixture(scope="module")
def dev_report() -> dict:
    model = ensure_model()
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", "scripts.safety_report", "--model", str(model), "--json",
         "--set", "tests/safety/dev_set.yml"],
        cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


def test_the_tiers_through_the_layered_path_on_the_dev_set(dev_report):
    """Issue 9's targets (for the blind set) held on the blind-written dev set, through
    the path the product runs: alarms caught as alarm or concern, few calm alerts."""
    layered = dev_report["layered_tiers"]
    print(f"\nlayered, dev set: alarm recall {layered['alarm_recall_as_alarm']:.3f} "
          f"(any tier {layered['alarm_recall_any_tier']:.3f}), concern recall "
          f"{layered['concern_recall_any_tier']:.3f}, calm alerts "
          f"{layered['calm_false_alarm_rate']:.1%}, calm concerns "
          f"{layered['calm_concern_rate']:.1%}, 112 recall "
          f"{layered['immediate_recall_112']:.3f}")
    assert layered["alarm_recall_any_tier"] >= 0.97, layered["alarms_missed"]
    assert layered["calm_false_alarm_rate"] <= 0.02, layered["calm_alarms"]
