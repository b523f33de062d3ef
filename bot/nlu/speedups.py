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
  replayed from the start, which the states depend on), and only the rules whose last
  state asks for the conversation's previous action and user intent are compared. Same predictions:
  when no rule applies, Rasa returns a key made of the states as the prediction's
  source; from a tail it is marked, so it can never equal a rule's key (a whole
  conversation longer than every rule cannot either).
- Rasa copies every slot for every tracker it makes (`copy.copy`, the slow generic way),
  and works out the graph to run for each NLU parse and prediction again, then runs its
  dozen nodes through dask's scheduler (1 ms of a 5 ms parse).
- Rasa deep-copies events, parse data and dialogue states for debug logs that are off.
- Rasa's response interpolation logs an exception, with a rendered traceback, for every
  text with braces that are not a slot: each button payload with entities
  (`/choose{"choice":"all"}`) of every response sent. Same texts, logged at debug.
- The intent classifier multiplied each message by a transposed copy of its whole
  coefficient matrix, and every parse built an empty `Domain` to compare with.
- A form calls its validation action only when there is something to validate
  (`bot/nlu/form_calls.py`, installed with these).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

_INSTALLED = False
T = TypeVar("T")
# Rasa's own functions that a patch falls back to.
_ORIGINALS: dict[str, Any] = {}


@functools.lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@functools.lru_cache(maxsize=1)
def _event_validators() -> tuple[Any, dict[str, Any], Any] | None:
    """The parts of Rasa's answer schema for the quick check: the properties every
    event has, one validator per event type (the `oneOf` alternatives, told apart by
    their `event` constant), and the responses. None when the schema has another shape."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    try:
        event_schema = schema["properties"]["events"]["items"]
        alternatives = event_schema["oneOf"]
        by_type: dict[str, Any] = {}
        for alternative in alternatives:
            name = alternative["properties"]["event"]["const"]
            if name in by_type:
                return None
            by_type[name] = cls(alternative)
        responses = cls(schema["properties"]["responses"])
    except (KeyError, TypeError):
        return None
    base = cls({key: value for key, value in event_schema.items() if key != "oneOf"})
    return base, by_type, responses


def _plainly_valid(result: Any) -> bool:
    """True only for an answer Rasa's schema accepts: each event is checked against the
    common properties and the one alternative of its type (the others cannot match, as
    their `event` constants differ). Anything else goes to the full check."""
    parts = _event_validators()
    if parts is None or not isinstance(result, dict):
        return False
    base, by_type, responses = parts
    events = result.get("events", [])
    if not isinstance(events, list):
        return False
    for event in events:
        if not isinstance(event, dict):
            return False
        check = by_type.get(event.get("event"))  # type: ignore[arg-type]
        if check is None or not base.is_valid(event) or not check.is_valid(event):
            return False
    return "responses" not in result or bool(responses.is_valid(result["responses"]))


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Rasa's `_validate_action_result`, with the same errors, without rebuilding."""
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    if _plainly_valid(result):
        return True
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


def dumps(value: Any) -> str:
    """JSON text for a request body: ujson (several times faster than `json` on a whole
    tracker, which Rasa sends to the action server with every action call), with
    `json.dumps` for anything ujson will not write exactly as `json` would."""
    import json

    import ujson

    try:
        return str(ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False,
                               reject_bytes=True))
    except (TypeError, ValueError, OverflowError):
        return json.dumps(value)


# Connections to an endpoint are kept open and reused for at most this long. Rasa
# opened a new session, connector and TCP connection for every action call; the
# action server (Sanic) closes an idle connection after 5 s (KEEP_ALIVE_TIMEOUT), so a
# connection reused within this second is never one it is closing.
KEEPALIVE_SECONDS = 1.0
# One session per event loop and endpoint settings (headers, authentication).
_SESSIONS: dict[tuple[Any, ...], Any] = {}


def endpoint_session(self: Any) -> Any:
    """Rasa's `EndpointConfig.session` (only ever used as `async with`), writing JSON
    bodies with `dumps`, and one kept session per event loop and endpoint settings, so
    that action calls reuse open connections."""
    import asyncio
    import contextlib

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    key = (asyncio.get_running_loop(), tuple(sorted((self.headers or {}).items())),
           tuple(sorted((self.basic_auth or {}).items())))
    session = _SESSIONS.get(key)
    if session is None or session.closed:
        for stale in [k for k, s in _SESSIONS.items() if s.closed or k[0].is_closed()]:
            del _SESSIONS[stale]
        auth = None
        if self.basic_auth:
            auth = aiohttp.BasicAuth(self.basic_auth["username"],
                                     self.basic_auth["password"])
        session = aiohttp.ClientSession(
            headers=self.headers, auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            json_serialize=dumps,
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
            # A session per call never carried cookies from one call to the next.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        _SESSIONS[key] = session
    # Rasa's `request` closes the session at the end of its `async with`; this one
    # is left open.
    return contextlib.nullcontext(session)


async def close_endpoint_sessions() -> None:
    """Close the kept sessions of the running event loop (at server stop)."""
    import asyncio

    loop = asyncio.get_running_loop()
    for key in [k for k in _SESSIONS if k[0] is loop]:
        await _SESSIONS.pop(key).close()


# What the action server is sent of the conversation: the events from this many user
# messages back. Our actions and rasa_sdk read only the latest turn (the latest user
# message and what came just before it, the slots set since; the slots, the active loop
# and the latest message are sent apart from the events). tests/test_consistency.py
# lists the actions that read `tracker.events`, so a new one is looked at.
ACTION_SERVER_TURNS = 3


def recent_events(events: Any) -> list[Any]:
    """The events from the ACTION_SERVER_TURNS-th last user message on."""
    from rasa.shared.core.events import UserUttered

    events = list(events)
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == ACTION_SERVER_TURNS:
                return events[index:]
    return events


_DERIVED: dict[tuple[str, int], tuple[Any, Any]] = {}


def _derived(kind: str, source: Any, build: Callable[[], T]) -> T:
    """`build()`, worked out once per source object: the rule lookups and the domain
    never change once loaded. The source is kept with the value, so its id cannot be
    taken by another object meanwhile."""
    known = _DERIVED.get((kind, id(source)))
    if known is not None and known[0] is source:
        return known[1]  # type: ignore[no-any-return]
    value = build()
    _DERIVED[(kind, id(source))] = (source, value)
    return value



def lean_domain(data: dict[str, Any]) -> dict[str, Any]:
    """The domain without its responses (105 of its 127 kB): rasa_sdk reads the slots
    and forms; the actions that put copy together read the responses from their own
    copy of domain/ (actions/copy.py)."""
    return _derived("lean domain", data,
                    lambda: {key: value for key, value in data.items() if key != "responses"})


def tracker_state(tracker: Any) -> dict[str, Any]:
    """Rasa's `DialogueStateTracker.current_state(EventVerbosity.NONE)`, the same dict,
    with the active loop copied one level deep instead of by `dataclasses.asdict` (a
    deep copy of the message that started the form, on every action call). It is
    written out as JSON at once, in the same turn, which nothing else changes meanwhile
    (one turn of a conversation at a time)."""
    import dataclasses

    from rasa.shared.core.constants import ACTIVE_LOOP, FOLLOWUP_ACTION

    loop = tracker.active_loop
    return {
        "sender_id": tracker.sender_id,
        "slots": tracker.current_slot_values(),
        "latest_message": tracker._latest_message_data(),
        "latest_event_time": tracker.events[-1].timestamp if len(tracker.events) else None,
        FOLLOWUP_ACTION: tracker.followup_action,
        "paused": tracker.is_paused(),
        "events": None,
        "latest_input_channel": tracker.get_latest_input_channel(),
        ACTIVE_LOOP: ({field.name: getattr(loop, field.name)
                       for field in dataclasses.fields(loop)} if loop else {}),
        "latest_action": tracker.latest_action,
        "latest_action_name": tracker.latest_action_name,
    }


def action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    """Rasa's `RemoteAction._action_call_format` with the recent events only and the
    domain without its responses: Rasa sent the whole conversation and the whole domain
    with every action call (two or three per message), and the action server parsed
    them every time."""
    import rasa

    state = tracker_state(tracker)
    state["events"] = [event.as_dict() for event in recent_events(tracker.events)]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
              "version": rasa.__version__}
    if (not self._is_selective_domain_enabled()
            or domain.does_custom_action_explicitly_need_domain(self.name())):
        result["domain"] = lean_domain(domain.as_dict())
    return result


class TailStates(list):  # type: ignore[type-arg]
    """The newest dialogue states of a conversation, not all of them."""


def _rule_tail(policy: Any) -> int:
    """The most states any of the policy's rules looks at."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

    lookup = policy.lookup

    def longest() -> int:
        keys = [*lookup.get(RULES, {}), *lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
        return max((len(policy._rule_key_to_state(key)) for key in keys), default=0)

    return _derived("rule tail", lookup, longest)


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
    memo = tracker.__dict__.get(RULE_STATES)
    if (memo is None or memo.domain is not domain
            or memo.rule_tracker != tracker.is_rule_tracker
            or not _begins_with(events, memo.events)):
        memo = None
    done = len(memo.events) if memo is not None else 0
    actions = memo.actions if memo is not None else 0
    total = 1 + actions + sum(1 for event in events[done:] if isinstance(event, ActionExecuted))
    first = total - _rule_tail(self)
    # A conversation no longer than the longest rule: all of its states, as a plain
    # list (Rasa's own result, whose key a rule's may equal).
    whole = first <= 0
    first = max(first, 0)
    if memo is None:
        memo = _RuleStates(domain, tracker.is_rule_tracker, [], tracker.init_copy(), 0, {})
        tracker.__dict__[RULE_STATES] = memo
    # Domain.states_for_tracker_history over DialogueStateTracker.generate_all_prior_trackers,
    # with no rule-only turns ignored (the RulePolicy's data is ML and rules), carried
    # on from where this tracker's last prediction left off.
    prior = memo.prior
    for event in events[done:]:
        if isinstance(event, ActionExecuted):
            if memo.actions >= first:
                memo.states[memo.actions] = domain._clean_state(domain.get_active_state(prior))
            memo.actions += 1
        prior.update(event)
        memo.events.append(event)
    for index in [index for index in memo.states if index < first]:
        del memo.states[index]
    tail = (_copy_state(memo.states[index]) for index in range(first, memo.actions))
    states = list(tail) if whole else TailStates(tail)
    states.append(domain._clean_state(domain.get_active_state(prior)))
    featurizer._choose_last_user_input([states], use_text_for_last_user_input)
    return states


RULE_STATES = "_mijnstem_rule_states"  # where a tracker keeps its _RuleStates


@dataclass
class _RuleStates:
    """What `rule_prediction_states` worked out for a tracker, to carry on from at its
    next prediction (two to five per message, each of which replayed the whole
    conversation into a new tracker and built the states of its tail again). Valid for
    a tracker whose applied events begin with `events`, the same objects: the state
    before an action depends only on the events before it. A revert, a restart or a
    new session changes the applied events, and the states are built anew."""

    domain: Any
    rule_tracker: bool
    events: list[Any]  # the applied events replayed into `prior`
    prior: Any  # a new tracker (init_copy) with those events applied
    actions: int  # how many of them are ActionExecuted
    states: dict[int, Any]  # the state before the action with this index (the newest)


def _begins_with(events: list[Any], start: list[Any]) -> bool:
    return len(events) >= len(start) and all(
        a is b for a, b in zip(events, start, strict=False))


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """A state as `_clean_state` makes it (sub-states of plain values and tuples), for
    the policy to change as it likes (`_choose_last_user_input` does, on the last)."""
    return {key: dict(value) for key, value in state.items()}


def _rule_index(
    policy: Any, lookup: dict[str, Any],
) -> tuple[list[str], dict[tuple[str, str | None], list[str]]]:
    """The rule keys by what their last state requires of the conversation's last state:
    the previous action (`action_name`) and the user's intent (None: any), and those
    whose last state names no previous action."""
    from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
    from rasa.shared.nlu.constants import ACTION_NAME, INTENT

    def build() -> tuple[list[str], dict[tuple[str, str | None], list[str]]]:
        generic: list[str] = []
        named: dict[tuple[str, str | None], list[str]] = {}
        for key in lookup:
            rule_states = policy._rule_key_to_state(key)
            last = rule_states[-1] if rule_states else {}
            name = (last.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
            intent = (last.get(USER) or {}).get(INTENT)
            if not isinstance(intent, str) or not intent or intent == SHOULD_NOT_BE_SET:
                intent = None
            if isinstance(name, str) and name:
                named.setdefault((name, intent), []).append(key)
            else:
                generic.append(key)
        return generic, named

    return _derived("rule index", lookup, build)


def get_possible_keys(self: Any, lookup: dict[str, Any], states: list[Any]) -> set[str]:
    """Rasa's `RulePolicy._get_possible_keys`, the same keys: a rule whose last state
    names a previous action, or a user intent, can only apply when the conversation's
    last state names the same (`_is_rule_applicable` at turn 0), so only those rules
    are compared."""
    from rasa.shared.core.constants import PREVIOUS_ACTION, USER
    from rasa.shared.nlu.constants import ACTION_NAME, INTENT

    if not states:
        return set(lookup.keys())
    generic, named = _rule_index(self, lookup)
    name = (states[-1].get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    intent = (states[-1].get(USER) or {}).get(INTENT)
    possible_keys = set(generic)
    if isinstance(name, str):
        possible_keys.update(named.get((name, None), ()))
        if isinstance(intent, str):
            possible_keys.update(named.get((name, intent), ()))
    for i, state in enumerate(reversed(states)):
        possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, i, state)}
    return possible_keys


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


def copy_slot(self: Any) -> Any:
    """`copy.copy` of a Rasa slot, as the default protocol does it (a new object of the
    same class with the same `__dict__`), without the generic `__reduce_ex__` round trip:
    every tracker made copies all 66 slots (from the store, for each prediction, for a
    form's validation)."""
    new = self.__class__.__new__(self.__class__)
    new.__dict__.update(self.__dict__)
    return new


APPLIED = "_mijnstem_applied"  # where a tracker keeps what applied_events worked out
# The attributes a DialogueStateTracker has (Rasa 3.6 `__init__`), the mark our tracker
# store leaves on a tracker it saved (bot/nlu/tracker_store.py: STORED) and what
# applied_events keeps, none of which a copy gets; a tracker with any other attribute
# is copied by Rasa's own code.
TRACKER_FIELDS = frozenset({
    "_max_event_history", "events", "sender_id", "slots", "sender_source",
    "is_rule_tracker", "_paused", "followup_action", "latest_action", "latest_message",
    "latest_bot_utterance", "active_loop", "model_id", "assistant_id",
    "_mijnstem_stored_events", APPLIED, RULE_STATES,
})


def replayed_state(tracker: Any, *, max_event_history: int | None,
                   sender_source: str | None, is_rule_tracker: bool) -> Any:
    """The tracker Rasa gets by replaying every event of `tracker` into a new one, made
    by copying the state the events left instead: Rasa replays the whole conversation
    for each action it runs (`DialogueStateTracker.copy`) and twice more for a form's
    validation (`FormAction._temporary_tracker`), 10 % of its time under load, and
    more as a conversation grows. A tracker's state is, by Rasa's own rule, what its
    events make of it; the new tracker holds the same event objects, copies of the
    slots (with their values), the same latest message and bot utterance, a copy of
    the latest action and active loop, and no model or assistant id, as Rasa's replay
    leaves it. None when that cannot be said for sure (events fell off a capped
    history; a restart, after which Rasa keeps only the later events; an attribute
    this code does not know): the caller then does what Rasa does."""
    from rasa.shared.core.events import BotUttered, Restarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    if (tracker._max_event_history is not None or type(tracker.slots) is not dict
            or not TRACKER_FIELDS.issuperset(vars(tracker))
            or any(type(event) is Restarted for event in tracker.events)):
        return None
    new = DialogueStateTracker.__new__(DialogueStateTracker)
    new._max_event_history = max_event_history
    new.events = new._create_events(tracker.events)
    new.sender_id = tracker.sender_id
    new.slots = {name: copy_slot(slot) for name, slot in tracker.slots.items()}
    new.sender_source = sender_source
    new.is_rule_tracker = is_rule_tracker
    new._paused = tracker._paused
    new.followup_action = tracker.followup_action
    new.latest_action = None if tracker.latest_action is None else dict(tracker.latest_action)
    # The latest message and bot utterance are events of the conversation (the same
    # objects in a replay), or a new empty one when there is none since a reset.
    new.latest_message = _shared_or(tracker.latest_message, tracker.events, UserUttered.empty)
    new.latest_bot_utterance = _shared_or(tracker.latest_bot_utterance, tracker.events,
                                          BotUttered.empty)
    active = tracker.active_loop
    new.active_loop = None if active is None else _copy_dataclass(active)
    new.model_id = None
    new.assistant_id = None
    return new


def applied_events(self: Any) -> list[Any]:
    """Rasa's `DialogueStateTracker.applied_events`, carried on from where the same
    tracker's last call left off: Rasa walks the whole conversation (and, inside forms,
    back through it for each form turn) once per message for the session check and
    once per rule prediction, two or three per action. Rasa's walk depends on the
    events and on the names of every form the conversation has activated; while the
    events before are the same objects in the same place and the new events activate
    no other form, its result is the old one followed by the walk over the new events.
    Otherwise (or the first time) Rasa's own walk."""
    from itertools import islice

    from rasa.shared.core.events import ActiveLoop

    events = self.events
    count = len(events)
    kept = self.__dict__.get(APPLIED)
    if (kept is not None and kept[0] is events and 0 < kept[1] <= count
            and events[kept[1] - 1] is kept[2] and events.maxlen is None):
        new = list(islice(events, kept[1], count))
        loops = kept[3]
        if all(e.name in loops for e in new if isinstance(e, ActiveLoop) and e.name):
            applied = list(kept[4])
            _walk(self, new, loops, applied)
            if count:
                self.__dict__[APPLIED] = (events, count, events[-1], loops, applied)
            return list(applied)
    applied = _ORIGINALS["applied_events"](self)
    if count:
        loops = frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)
        self.__dict__[APPLIED] = (events, count, events[-1], loops, list(applied))
    return applied  # type: ignore[no-any-return]


def _walk(tracker: Any, events: list[Any], loops: frozenset[str], applied: list[Any]) -> None:
    """The body of Rasa's loop in `applied_events` (Rasa 3.6.21), over `events`."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in loops
              and not tracker._first_loop_execution_or_unhappy_path(
                  event.action_name, applied)):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def _shared_or(latest: Any, events: Any, empty: Callable[[], Any]) -> Any:
    return latest if any(event is latest for event in reversed(events)) else empty()


def _copy_dataclass(value: Any) -> Any:
    new = value.__class__.__new__(value.__class__)
    new.__dict__.update(value.__dict__)
    return new


def copy_tracker(self: Any) -> Any:
    """Rasa's `DialogueStateTracker.copy` (`init_copy` and a replay of every event)."""
    if self.sender_id:
        new = replayed_state(self, max_event_history=self._max_event_history,
                             sender_source=None, is_rule_tracker=self.is_rule_tracker)
        if new is not None:
            return new
    return _ORIGINALS["copy"](self)


def temporary_tracker(self: Any, current_tracker: Any, additional_events: list[Any],
                      domain: Any) -> Any:
    """Rasa's `FormAction._temporary_tracker`: a new tracker from the events since the
    latest restart, a `requested_slot` event, the form's own execution and the
    candidate slot values, with the domain's slots."""
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, SlotSet

    new = None
    if current_tracker.sender_id and [s.name for s in domain.slots] == list(
            current_tracker.slots):
        new = replayed_state(current_tracker, max_event_history=None, sender_source=None,
                             is_rule_tracker=False)
    if new is None:
        return _ORIGINALS["_temporary_tracker"](self, current_tracker, additional_events,
                                                domain)
    for event in [SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
                  ActionExecuted(self.name()), *additional_events]:
        new.update(event)
    return new


def run_graph(self: Any, inputs: dict[str, Any] | None = None,
              targets: list[str] | None = None) -> dict[str, Any]:
    """Rasa's `DaskGraphRunner.run`, with the graph for each set of targets worked out
    once (Rasa walked the schema's dependencies again, recursively and without memory,
    for the NLU parse and for each prediction), and run by `run_tasks` instead of dask's
    scheduler, whose bookkeeping cost more than the small graphs it ran (a dozen nodes:
    the pipeline's components in a chain, or the policy and its providers)."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import logger

    run_targets = targets if targets else self._graph_schema.target_names
    graphs = self.__dict__.setdefault("_mijnstem_graphs", {})
    graph = graphs.get(tuple(run_targets))
    if graph is None:
        graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        graphs[tuple(run_targets)] = graph
    run = dict(graph)
    if inputs:
        self._add_inputs_to_graph(inputs, run)
    logger.debug("Running graph with inputs: %s, targets: %s and %s.", inputs, targets,
                 self._execution_context)
    try:
        return dict(run_tasks(run, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def run_tasks(graph: dict[str, Any], targets: list[str]) -> list[Any]:
    """`dask.get(graph, targets)` for graphs as Rasa builds them: a node is a task
    `(callable, *names of the nodes it needs)`, an input `(name, value)` is a value.
    Each node runs once, after the nodes it needs, in the order it names them (Rasa's
    nodes in a chain hand the same messages on, so the order is the chain's)."""
    results: dict[str, Any] = {}

    def result(key: str) -> Any:
        if key in results:
            return results[key]
        task = graph[key]
        if type(task) is tuple and task and callable(task[0]):
            value = task[0](*(result(arg) if type(arg) is str and arg in graph else arg
                              for arg in task[1:]))
        else:
            value = task
        results[key] = value
        return value

    return [result(target) for target in targets]


def create_x(self: Any, messages: list[Any]) -> Any:
    """Rasa's `LogisticRegressionClassifier._create_X`, the same matrix, built at once.
    Rasa's `Message.get_sparse_features` also deep-copies and joins every featurizer's
    sequence features (a row per token, char n-grams included), and the classifier
    drops them (5 % of Rasa's time under load); then the sentence features of each
    featurizer were joined by scipy's `hstack` (a deep copy and three sparse matrices
    built per message: about 1 ms). Each message's row is its featurizers' sentence
    features side by side, so the row is made of their entries in that order, as
    `hstack` makes it (the same values, column indices and dtype:
    `tests/bot/test_rasa_speedups.py`). Anything else (dense features, a featurizer
    with other output) is joined as Rasa joins it."""
    import numpy as np
    from rasa.shared.nlu.constants import TEXT
    from scipy.sparse import csr_matrix

    values: list[Any] = []
    columns: list[Any] = []
    starts = [0]
    width = None
    for message in messages:
        _, sentence = message._filter_sparse_features(TEXT, [])
        if not sentence or message.get_dense_features(attribute=TEXT)[1] is not None:
            return _joined_x(messages)
        offset = entries = 0
        for features in sentence:
            matrix = features.features
            if getattr(matrix, "format", None) != "coo" or matrix.shape[0] != 1:
                return _joined_x(messages)
            columns.append(matrix.col + offset)
            values.append(matrix.data)
            offset += matrix.shape[1]
            entries += matrix.nnz
        if width not in (None, offset):
            return _joined_x(messages)
        width = offset
        starts.append(starts[-1] + entries)
    if not messages:
        return _joined_x(messages)
    data = np.concatenate(values)
    # hstack joins them with the (empty, float) dense part: floats.
    data = data.astype(np.result_type(np.float64, data.dtype), copy=False)
    return csr_matrix((data, np.concatenate(columns).astype(np.int32, copy=False),
                       np.array(starts, dtype=np.int32)), shape=(len(messages), width))


def _joined_x(messages: list[Any]) -> Any:
    """The sentence features joined by Rasa's own functions, from the same lists."""
    from rasa.shared.nlu.constants import TEXT
    from scipy.sparse import csr_matrix, hstack, vstack

    rows = []
    for message in messages:
        _, sentence = message._filter_sparse_features(TEXT, [])
        sparse = message._combine_features(sentence, [])
        dense = message.get_dense_features(attribute=TEXT)[1]
        rows.append(hstack([csr_matrix(sparse.features if sparse else []),
                            csr_matrix(dense.features if dense else [])]))
    return vstack(rows)


def load_classifier(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """Rasa's `LogisticRegressionClassifier.load`, with the coefficients stored column
    by column. The classifier multiplies a message's sparse features by the transposed
    coefficient matrix, and scipy copied that transpose into row order for every
    message (the whole matrix, to multiply one row). Stored in Fortran order, the
    transpose already is in row order; the values, and so the sums, are the same."""
    import numpy as np

    component = _ORIGINALS["load_classifier"].__func__(cls, *args, **kwargs)
    clf: Any = getattr(component, "clf", None)
    coef = getattr(clf, "coef_", None)
    if isinstance(coef, np.ndarray):
        clf.coef_ = np.asfortranarray(coef)
    return component


@functools.cache
def _empty_domain() -> dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.empty().as_dict()  # type: ignore[no-any-return]


def domain_is_empty(self: Any) -> bool:
    """Rasa's `Domain.is_empty`, with the empty domain made once: Rasa built a whole
    empty `Domain` to compare with, for every message it parsed."""
    return bool(self.as_dict() == _empty_domain())


# Rasa modules that deep-copy values only to hand them to a debug log
# (`structlogger.debug("...", x=copy.deepcopy(x))`), which runs whether or not debug
# logging is on: the prediction's events, every action's events, the parse data, the
# rule policy's states for every prediction (test_rasa_speedups checks that each of
# their deep copies is such a log argument).
DEBUG_LOG_COPIERS = ("rasa.core.processor", "rasa.core.actions.forms",
                     "rasa.core.policies.rule_policy")


class CopiesForDebugLogs:
    """The `copy` module as those modules see it: `deepcopy` copies only when Rasa logs
    at debug level, else the debug log drops the value and it is handed on as it is."""

    def __getattr__(self, name: str) -> Any:
        import copy

        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        import copy
        import logging

        if logging.getLogger("rasa").isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value, memo)
        return value


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    import rasa.core.nlg.interpolator
    from rasa.core.actions.action import RemoteAction
    from rasa.core.actions.forms import FormAction
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.nlu.classifiers.logistic_regression_classifier import (
        LogisticRegressionClassifier,
    )
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event
    from rasa.shared.core.slots import Slot
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    EndpointConfig.session = endpoint_session  # type: ignore[method-assign]
    _ORIGINALS["copy"] = DialogueStateTracker.copy
    _ORIGINALS["_temporary_tracker"] = FormAction._temporary_tracker
    _ORIGINALS["applied_events"] = DialogueStateTracker.applied_events
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.copy = copy_tracker  # type: ignore[method-assign]
    FormAction._temporary_tracker = temporary_tracker  # type: ignore[method-assign]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
    Slot.__copy__ = copy_slot  # type: ignore[attr-defined]
    DaskGraphRunner.run = run_graph  # type: ignore[method-assign]
    LogisticRegressionClassifier._create_X = create_x  # type: ignore[method-assign]
    _ORIGINALS["load_classifier"] = LogisticRegressionClassifier.__dict__["load"]
    LogisticRegressionClassifier.load = classmethod(load_classifier)  # type: ignore[method-assign,assignment]
    Domain.is_empty = domain_is_empty  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    RulePolicy._prediction_states = rule_prediction_states  # type: ignore[method-assign]
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]
    RulePolicy._create_feature_key = _feature_key_of(  # type: ignore[method-assign]
        RulePolicy._create_feature_key)
    rasa.core.nlg.interpolator.interpolate_text = interpolate_text
    import importlib

    for name in DEBUG_LOG_COPIERS:
        importlib.import_module(name).copy = CopiesForDebugLogs()  # type: ignore[attr-defined]
    from bot.nlu import form_calls

    form_calls.install()
    _INSTALLED = True
