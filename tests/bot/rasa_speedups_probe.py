"""Run by test_rasa_speedups.py with .venv-rasa's Python."""

from __future__ import annotations

import json

import rasa.core.nlg.interpolator  # noqa: F401 - what install() imports, imported
import rasa.core.policies.rule_policy  # noqa: F401 - before both lists are made
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, SlotSet
from rasa.shared.utils.common import all_subclasses

from bot.nlu import speedups

GOOD = {"events": [{"event": "slot", "timestamp": None, "name": "wish", "value": "een hond"}],
        "responses": [{"response": "utter_wish_saved"}]}
BAD = [{"events": [{"event": "slot", "name": 3}], "responses": []},
       {"events": [], "responses": "utter_x"}, {"events": [{"event": "nonsense"}]}]


def verdicts(action: RemoteAction) -> list[str]:
    out = []
    for result in [GOOD, *BAD]:
        try:
            out.append("ok" if action._validate_action_result(result) else "false")
        except ValidationError as exc:
            out.append(f"refused: {exc.message.split('.')[0]}")
    return out


def resolved() -> list[str]:
    """What Event.resolve_by_type gives for every event type, an old one, an unknown
    one with and without a default, and a type defined after the first lookup."""
    names = sorted({cls.type_name for cls in all_subclasses(Event)})
    out = [f"{n}: {Event.resolve_by_type(n).__name__}" for n in names]
    out.append(f"topic: {Event.resolve_by_type('topic')}")
    out.append(f"default: {Event.resolve_by_type('no_such_event', default=SlotSet).__name__}")
    try:
        Event.resolve_by_type("no_such_event")
    except ValueError as exc:
        out.append(f"unknown: {exc}")
    return out


def late_subclass() -> str:
    class ProbeEvent(ActionExecuted):
        type_name = "probe_event_defined_late"

    return Event.resolve_by_type("probe_event_defined_late").__name__


TEXTS = ["Hoi!", "Hoi {name}!", "Hoi {unknown}!", '/choose{"choice":"all"}', "{{name}}",
         "a } b", "{name} en {age_group}", "{na\nme}"]


def interpolated() -> list[str]:
    """Rasa's response texts filled in: payloads, slots, missing slots, odd braces."""
    out = []
    for text in TEXTS:
        try:
            out.append(rasa.core.nlg.interpolator.interpolate(
                {"text": text, "buttons": [{"payload": text}]}, {"name": "Sam"})["text"])
        except ValueError as exc:
            out.append(f"error: {exc}")
    return out


action = RemoteAction.__new__(RemoteAction)
before = verdicts(action)
events_before = resolved()
texts_before = interpolated()
speedups.install()
after = verdicts(action)
events_after = resolved()
texts_after = interpolated()
print("PROBE " + json.dumps({"before": before, "after": after,
                              "events_before": events_before, "events_after": events_after,
                              "texts_before": texts_before, "texts_after": texts_after,
                              "late": late_subclass(),
                              "parsed": Event.from_parameters(GOOD["events"][0]).as_dict(),
                              "patched": RemoteAction._validate_action_result
                              is speedups.validate_action_result
                              and Event.resolve_by_type is speedups.resolve_by_type
                              and rasa.core.nlg.interpolator.interpolate_text
                              is speedups.interpolate_text}))
