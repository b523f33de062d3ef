"""Rasa, made cheaper where the profile showed it wasting time (ARCHITECTURE.md,
Performance). Runs inside Rasa (`.venv-rasa`); installed by the tracker store at start.

- `RemoteAction._validate_action_result` calls `jsonschema.validate` on every action
  server answer, which first checks Rasa's large event schema against the JSON Schema
  meta-schema and builds a new validator, every time: under load, over 40 % of Rasa's
  samples. The same check with the validator built (and the schema checked) once.
"""

from __future__ import annotations

import functools
from typing import Any

_INSTALLED = False


@functools.lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Rasa's `_validate_action_result`, with the same errors, without rebuilding."""
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    error = exceptions.best_match(_action_result_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response "
        "from the Action endpoint is valid. For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    _INSTALLED = True
