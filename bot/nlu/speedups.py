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
- `RulePolicy` turns the WHOLE conversation into dialogue states for every prediction
  (two or three per action, several actions per turn), and then matches every rule
  against every state from the newest back. A rule only ever looks at as many states
  as it has: from the longest rule's length on, every rule is "applicable" and the
  filter keeps them all. So only that tail of states is built (the tracker is still
  replayed from the start, which the states depend on). Same predictions:
  when no rule applies, Rasa returns a key made of the states as the prediction's
  source; from a tail it is marked, so it can never equal a rule's key (a whole
  conversation longer than every rule cannot either).
- Rasa's response interpolation logs an exception, with a rendered traceback, for every
  text with braces that are not a slot: each button payload with entities
  (`/choose{"choice":"all"}`) of every response sent. Same texts, logged at debug.
"""

from __future__ import annotations

import functools
import re
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


class TailStates(list):  # type: ignore[type-arg]
    """The newest dialogue states of a conversation, not all of them."""


_RULE_TAILS: dict[int, tuple[Any, int]] = {}


def _rule_tail(policy: Any) -> int:
    """The most states any of the policy's rules looks at."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

    lookup = policy.lookup
    known = _RULE_TAILS.get(id(policy))
    if known is not None and known[0] is lookup:
        return known[1]
    keys = [*lookup.get(RULES, {}), *lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
    longest = max((len(policy._rule_key_to_state(key)) for key in keys), default=0)
    _RULE_TAILS[id(policy)] = (lookup, longest)
    return longest


def rule_prediction_states(
    self: Any, tracker: Any, domain: Any, use_text_for_last_user_input: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[Any]:
    """Rasa's `Policy._prediction_states` for the RulePolicy, building only the states
    its rules can look at (the same states as Rasa's, newest last)."""
    from rasa.core.policies.policy import Policy, SupportedData
    from rasa.shared.core.events import ActionExecuted

    featurizer = self.featurizer
    if (featurizer.max_history is not None
            or self.supported_data() == SupportedData.ML_DATA):
        return Policy._prediction_states(  # type: ignore[no-any-return]
            self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    events = tracker.applied_events()
    total = 1 + sum(1 for event in events if isinstance(event, ActionExecuted))
    first = total - _rule_tail(self)
    if first <= 0:
        return Policy._prediction_states(  # type: ignore[no-any-return]
            self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    # Domain.states_for_tracker_history over DialogueStateTracker.generate_all_prior_trackers,
    # with no rule-only turns ignored (the RulePolicy's data is ML and rules).
    states = TailStates()
    prior = tracker.init_copy()
    index = 0
    for event in events:
        if isinstance(event, ActionExecuted):
            if index >= first:
                states.append(domain._clean_state(domain.get_active_state(prior)))
            index += 1
        prior.update(event)
    states.append(domain._clean_state(domain.get_active_state(prior)))
    featurizer._choose_last_user_input([states], use_text_for_last_user_input)
    return states


_TAIL_MARK = "tail:"


def _feature_key_of(original: Any) -> Any:
    @functools.wraps(original)
    def create_feature_key(self: Any, states: list[Any]) -> Any:
        key = original(self, list(states))
        if isinstance(states, TailStates) and key is not None:
            return _TAIL_MARK + key
        return key

    return create_feature_key


def interpolate_text(response: str, values: dict[str, Any]) -> str:
    """Rasa's `interpolate_text`: the same texts (and errors), a missing key logged at
    debug without a traceback."""
    import structlog

    if "{" not in response and "}" not in response:
        return response  # nothing to fill in, and nothing str.format would refuse
    try:
        text = re.sub(r"{([^\n{}]+?)}", r"{0[\1]}", response)
        text = text.format(values)
        if "0[" in text:
            return response.format({})
        return text
    except KeyError as e:
        structlog.get_logger().debug(
            "interpolator.interpolate.text", placeholder_key=e.args[0])
        return response


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    import rasa.core.nlg.interpolator
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.events import Event

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    RulePolicy._prediction_states = rule_prediction_states  # type: ignore[method-assign]
    RulePolicy._create_feature_key = _feature_key_of(  # type: ignore[method-assign]
        RulePolicy._create_feature_key)
    rasa.core.nlg.interpolator.interpolate_text = interpolate_text
    _INSTALLED = True
