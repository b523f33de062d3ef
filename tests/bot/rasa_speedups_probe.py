"""Run by test_rasa_speedups.py with .venv-rasa's Python."""

from __future__ import annotations

import json

from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

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


action = RemoteAction.__new__(RemoteAction)
before = verdicts(action)
speedups.install()
after = verdicts(action)
print("PROBE " + json.dumps({"before": before, "after": after,
                              "patched": RemoteAction._validate_action_result
                              is speedups.validate_action_result}))
