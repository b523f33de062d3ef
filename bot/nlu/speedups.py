"""Rasa, made cheaper where the profile showed it wasting time (ARCHITECTURE.md,
Performance). Runs inside Rasa (`.venv-rasa`); installed by the tracker store at start.

- `RemoteAction._validate_action_result` calls `jsonschema.validate` on every action
  server answer, which first checks Rasa's large event schema against the JSON Schema
  meta-schema and builds a new validator, every time: under load, over 40 % of Rasa's
  samples. The same check with the validator built (and the schema checked) once.
- `Event.resolve_by_type` walks the whole tree of `Event` subclasses (with an
  `inspect.isabstract` per class) for every event it turns back into an object: every
  event of the tracker on every turn, and every event the action server returns. Under
  load that was 9.6 % of Rasa's samples (the profile after the jsonschema fix). The
  same lookup from a table of the subclasses by type name, built once and rebuilt when
  a name is not in it (a subclass imported later is still found).
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


_EVENT_TYPES: dict[str, Any] = {}


def _event_types() -> dict[str, Any]:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    table: dict[str, Any] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)  # Rasa's loop returns the first match
    return table


def resolve_by_type(type_name: str, default: Any = None) -> Any:
    """Rasa's `Event.resolve_by_type`, with the same results and errors."""
    found = _EVENT_TYPES.get(type_name)
    if found is None:
        _EVENT_TYPES.update(_event_types())
        found = _EVENT_TYPES.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # as Rasa: old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    _INSTALLED = True
