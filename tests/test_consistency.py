"""Consistency checks that cost nothing: code, domain and training data agree."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.age import AGE_GROUPS
from bot.domain import load_domain
from bot.settings import PROJECT_ROOT
from scripts import gen_form_rules

DOMAIN: dict[str, Any] = load_domain()
RESPONSES: dict[str, list[dict[str, Any]]] = DOMAIN["responses"]
PY_FILES = sorted(
    p for d in ("actions", "bot") for p in (PROJECT_ROOT / d).rglob("*.py")
)

# Said before the child's age is known (unlinked chat, age question, failures), so one
# neutral voice is right; every other response needs a variant for each age band.
AGE_NEUTRAL_PREFIXES = ("utter_invite_", "utter_ask_code", "utter_link_", "utter_age_",
                        "utter_ask_age",
                        # pieces of summary lines, read by the caseworker too (actions/copy.py)
                        "utter_label_")
AGE_NEUTRAL = {"utter_yes_or_no", "utter_cannot_save", "utter_wish_too_long"}


def _response_names_in_code() -> set[tuple[str, Path]]:
    found = set()
    for path in PY_FILES:
        for match in re.finditer(r"""response\s*=\s*["'](utter_\w+)["']""", path.read_text()):
            found.add((match.group(1), path))
        for match in re.finditer(r"""["'](utter_\w+)["']""", path.read_text()):
            found.add((match.group(1), path))
    return found


def test_every_response_used_in_code_exists():
    missing = sorted(
        f"{name} ({path.relative_to(PROJECT_ROOT)})"
        for name, path in _response_names_in_code()
        if name not in RESPONSES
    )
    assert not missing, f"responses used in code but not in the domain: {missing}"


def _action_names_in_code() -> set[str]:
    names = set()
    for path in (PROJECT_ROOT / "actions").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "name":
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Constant):
                        names.add(ret.value.value)
    return names


def test_actions_in_code_and_domain_match():
    in_code = _action_names_in_code()
    declared = set(DOMAIN["actions"])
    assert in_code - declared == set(), "action classes not declared in the domain"
    assert declared - in_code == set(), "domain actions without a class in actions/"


def test_validation_actions_exist_for_forms():
    declared = set(DOMAIN["actions"])
    for form in DOMAIN["forms"]:
        assert f"validate_{form}" in declared, f"{form} has no validate_{form}"


def test_every_form_slot_is_declared_with_a_mapping():
    for form, spec in DOMAIN["forms"].items():
        for slot in spec["required_slots"]:
            assert slot in DOMAIN["slots"], f"{form} requires undeclared slot {slot}"
            mappings = DOMAIN["slots"][slot].get("mappings") or []
            assert mappings, f"slot {slot} of {form} has no mapping"
            for mapping in mappings:
                for condition in mapping.get("conditions", []):
                    assert condition.get("active_loop") in DOMAIN["forms"]


def test_free_text_slots_let_interruptions_through():
    """A from_text slot must not swallow stop, a safety alarm or any other interruption
    that scripts/gen_form_rules.py routes for every form."""
    answered = getattr(gen_form_rules, "ANSWERED_BY_FORM", {})
    for name, slot in DOMAIN["slots"].items():
        for mapping in slot.get("mappings") or []:
            if mapping.get("type") != "from_text":
                continue
            forms = {c.get("active_loop") for c in mapping.get("conditions", [])}
            allowed: set[str] = set().union(*(answered.get(f, set()) for f in forms))
            needed = set(gen_form_rules.INTERRUPTIONS) - allowed
            missing = needed - set(mapping.get("not_intent") or [])
            assert not missing, f"slot {name} swallows {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_child_facing_responses_have_every_age_band(name: str):
    """Each band has its own variant, or the default is marked as shared by every age
    (`metadata: {all_ages: true}`): a copy per band only where the words differ."""
    variants = RESPONSES[name]
    if name in AGE_NEUTRAL or name.startswith(AGE_NEUTRAL_PREFIXES):
        return
    bands = set()
    defaults = [v for v in variants if not v.get("condition")]
    for variant in variants:
        conditions = variant.get("condition") or []
        bands.update(c["value"] for c in conditions if c.get("name") == "age_group")
    assert defaults, f"{name} needs a default variant (age not known yet)"
    shared = any((v.get("metadata") or {}).get("all_ages") for v in defaults)
    missing = set(AGE_GROUPS) - bands
    assert not missing or shared, (
        f"{name} lacks a variant for {sorted(missing)} and its default is not marked "
        "`metadata: {all_ages: true}`")


def test_no_band_variant_repeats_the_default():
    """A band variant that says exactly what the default says is dropped."""
    for name, variants in RESPONSES.items():
        defaults = [{k: v for k, v in d.items() if k != "metadata"}
                    for d in variants if not d.get("condition")]
        for variant in variants:
            if variant.get("condition"):
                same = {k: v for k, v in variant.items() if k not in ("condition", "metadata")}
                assert same not in defaults, f"{name}: {variant['condition']} equals the default"


def test_response_conditions_use_real_slot_values():
    for name, variants in RESPONSES.items():
        for variant in variants:
            for condition in variant.get("condition") or []:
                slot = DOMAIN["slots"].get(condition["name"])
                assert slot is not None, f"{name}: unknown slot {condition['name']}"
                if slot["type"] == "categorical":
                    assert condition["value"] in slot["values"], name


def test_no_two_conditional_variants_can_match_at_once():
    """Rasa picks at random among every conditional variant that matches: two that can
    match together ("has a caseworker" and "has a caseworker, 6-9") would give a child
    the wrong band's copy now and then."""
    for name, variants in RESPONSES.items():
        conditions = [{c["name"]: c["value"] for c in v["condition"]}
                      for v in variants if v.get("condition")]
        for i, first in enumerate(conditions):
            for second in conditions[i + 1:]:
                shared = first.keys() & second.keys()
                assert any(first[k] != second[k] for k in shared), \
                    f"{name}: {first} and {second} can both match"


def _nlu_intents() -> set[str]:
    intents = set()
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        for item in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" in item:
                intents.add(item["intent"])
    return intents


# Intents only our NLU component sets (bot/nlu/safety.py), never the classifier: no
# training examples. One example each, for Rasa's validator (tests/test_rasa_stories.py).
INTENTS_SET_BY_CODE = {"safety_unclear": "dat ik meer zelf wil beslissen"}


def test_every_intent_has_training_examples():
    core = {"greet", "goodbye", "affirm", "deny", "dont_know", "stop", "ask_privacy",
            "bot_challenge", "thanks"}
    declared = set(DOMAIN["intents"])
    assert core <= declared, "the contract's core intents must exist"
    assert declared - _nlu_intents() == set(INTENTS_SET_BY_CODE)
    assert not set(INTENTS_SET_BY_CODE) & _nlu_intents(), "the classifier must not learn them"


def test_generated_form_rules_are_up_to_date():
    expected = gen_form_rules.build()
    assert gen_form_rules.OUTPUT.read_text() == expected, (
        "run: .venv/bin/python -m scripts.gen_form_rules"
    )


def test_no_response_text_is_empty():
    for name, variants in RESPONSES.items():
        for variant in variants:
            assert (variant.get("text") or "").strip(), name


def _string_literals(tree: ast.AST) -> list[ast.Constant]:
    """String constants in code, docstrings excluded."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_python_has_no_inline_dutch_copy():
    """Dutch copy lives in the domain and templates; a few tell-tale words catch slips."""
    pattern = re.compile(r"\b(je|jij|jouw|niet|bedankt|alsjeblieft|sorry|hoi|jeugdzorgwerker)\b",
                         re.IGNORECASE)
    offenders = []
    for path in PY_FILES:
        for node in _string_literals(ast.parse(path.read_text())):
            text = node.value
            # Lexicons and patterns (words to recognise, not to say) are single tokens
            # or regexes; copy is a sentence.
            if len(text.split()) >= 3 and pattern.search(text):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}: {text[:50]}")
    assert not offenders, offenders


def test_the_action_server_registers_every_action():
    """rasa-sdk registers every concrete Action subclass; a base without a name breaks
    the server at start-up, so bases must be abstract."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert "action_continue" in executor.actions


# Rasa sends the action server only the recent events of a conversation
# (bot/nlu/speedups.py, ACTION_SERVER_TURNS); the slots, the active loop and the latest
# message come apart from them. These read the events, and only the latest turn.
EVENT_READERS = {
    ("actions/forget.py", "events"),  # the question before the latest user message
    ("actions/wishes.py", "events"),  # whether the latest user message was clipped
    ("actions/base.py", "slots_to_validate"),  # the slots set after the latest action
}
_HISTORY = {"events", "applied_events", "get_last_event_for", "events_after_latest_restart",
            "idx_after_latest_restart", "slots_to_validate"}


def test_actions_read_only_the_recent_events():
    """A new reader of the conversation's events must look at what Rasa sends it."""
    found = set()
    for path in sorted((PROJECT_ROOT / "actions").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr in _HISTORY
                    and isinstance(node.value, ast.Name) and node.value.id == "tracker"):
                found.add((str(path.relative_to(PROJECT_ROOT)), node.attr))
    assert found == EVENT_READERS
