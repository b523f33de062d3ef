"""The safety alarm is wired in everywhere: pipeline, every form, every free-text slot,
the welcome copy and the helplines in every age band. Costs nothing to run."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.age import AGE_GROUPS
from bot.domain import load_domain
from bot.settings import PROJECT_ROOT
from scripts import gen_form_rules

DOMAIN: dict[str, Any] = load_domain()
CONFIG: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
RULES = yaml.safe_load(gen_form_rules.OUTPUT.read_text())["rules"]
HELPLINES = ("112", "0800-0432", "kindertelefoon.nl", "11:00", "21:00", "0800-2000",
             "113", "0800-0113")


def test_the_detector_runs_right_after_the_command_parser():
    names = [c["name"] for c in CONFIG["pipeline"]]
    assert names.index("bot.nlu.safety.SafetyDetector") == (
        names.index("bot.nlu.commands.CommandParser") + 1
    )
    # Nothing may overrule it: a component added after it must keep alarms intact.
    assert names[-1] == "bot.nlu.safety.SafetyDetector"


def test_no_free_text_answer_swallows_an_alarm():
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot.get("mappings") or []:
            if mapping.get("type") == "from_text":
                assert "safety_alarm" in (mapping.get("not_intent") or []), name


def test_every_form_is_interrupted_by_an_alarm():
    interrupted = {r["condition"][0]["active_loop"] for r in RULES
                   if r["steps"][0].get("intent") == "safety_alarm"}
    assert interrupted == set(DOMAIN["forms"])
    for rule in RULES:
        if rule["steps"][0].get("intent") == "safety_alarm":
            assert {"action": "action_deactivate_loop"} in rule["steps"]
            assert rule["steps"][-1] == {"action": "action_safety_alarm"}


def test_the_safety_check_reads_stop_and_goodbye_as_answers():
    """"stop", "laat maar", "doei" must not end the safety check at once."""
    mapping = DOMAIN["slots"]["safe_now"]["mappings"][0]
    excluded = set(mapping["not_intent"])
    assert not excluded & {"stop", "goodbye", "greet", "deny", "skip", "affirm"}
    during = {r["steps"][0].get("intent") for r in RULES
              if r["condition"][0]["active_loop"] == "safety_form"}
    assert not during & {"stop", "goodbye", "greet"}
    # and whatever still interrupts it is excluded from the answer
    assert during <= excluded


@pytest.mark.parametrize("name", ["utter_safety_alarm", "utter_safety_alarm_self"])
def test_every_variant_of_the_alarm_reply_has_every_helpline(name):
    variants = DOMAIN["responses"][name]
    bands = {c["value"] for v in variants for c in v.get("condition") or []}
    assert bands == set(AGE_GROUPS) and any(not v.get("condition") for v in variants)
    for variant in variants:
        for helpline in HELPLINES:
            assert helpline in variant["text"], (name, helpline, variant.get("condition"))
        assert "zonder" in variant["text"] or "moet ik" in variant["text"], (
            "the child is told the alert goes out without their yes")


def test_the_welcome_says_danger_is_passed_on_without_a_yes():
    for variant in DOMAIN["responses"]["utter_welcome_rules"]:
        assert "niet veilig" in variant["text"] or "in gevaar" in variant["text"]
        assert "zonder jouw ja" in variant["text"]


def test_the_safety_question_has_buttons_in_every_band():
    for variant in DOMAIN["responses"]["utter_ask_safe_now"]:
        payloads = {b["payload"] for b in variant["buttons"]}
        assert {"/affirm", "/deny"} <= payloads
