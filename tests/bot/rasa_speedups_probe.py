"""Run by test_rasa_speedups.py with .venv-rasa's Python."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import rasa.core.nlg.interpolator  # noqa: F401 - what install() imports, imported
import rasa.core.policies.rule_policy  # noqa: F401 - before both lists are made
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AgentUttered,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    EntitiesAdded,
    Event,
    FollowupAction,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionStarted,
    SlotSet,
    StoryExported,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.utils.common import all_subclasses

from bot.nlu import speedups

GOOD = {"events": [{"event": "slot", "timestamp": None, "name": "wish", "value": "een hond"}],
        "responses": [{"response": "utter_wish_saved"}]}
BAD = [{"events": [{"event": "slot", "name": 3}], "responses": []},
       {"events": [], "responses": "utter_x"}, {"events": [{"event": "nonsense"}]}]


# One answer per kind of event Rasa knows, as Rasa itself writes them, and answers the
# quick check must send on to the full one.
REAL = [{"events": [event.as_dict()]} for event in [
    UserUttered("hoi", {"name": "greet", "confidence": 1.0}), ActionExecuted("action_listen"),
    SlotSet("wish", "een hond"), BotUttered("Hoi!", {"buttons": []}), ActiveLoop("wish_form"),
    ActiveLoop(None), LoopInterrupted(True), FollowupAction("utter_greet"), Restarted(),
    AllSlotsReset(), SessionStarted(), ActionExecutionRejected("wish_form"),
    UserUtteranceReverted(), ActionReverted(), ReminderScheduled("x", datetime(2026, 1, 1)),
    ReminderCancelled("x"), ConversationPaused(), ConversationResumed(), StoryExported(),
    EntitiesAdded([{"entity": "x", "value": "y"}]), AgentUttered("x"),
]] + [{"events": [{"event": "form", "name": "wish_form"}]},
      {"events": [{"event": "form_validation", "validate": False}]},
      {"events": [{"event": "user_featurization", "use_text_for_featurization": False}]}]
ODD = [None, [], {"events": None}, {"events": {}}, {"events": ["slot"]},
       {"events": [{"event": "slot", "name": "x", "timestamp": "now"}]},
       {"events": [{"event": "slot", "name": "x", "metadata": []}]},
       {"events": [{"event": "slot"}]}, {"events": [{"name": "x"}]},
       {"events": [{"event": "bot", "text": 3}]}, {"responses": [1]},
       {"events": [{"event": "user", "text": "x", "parse_data": []}]}, {"other": 1}]


def verdicts(action: RemoteAction) -> list[str]:
    out = []
    for result in [GOOD, *BAD, *REAL, *ODD]:
        try:
            out.append("ok" if action._validate_action_result(result) else "false")
        except ValidationError as exc:
            out.append(f"refused: {exc.message.split('. Failed')[0]}")
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


def bodies() -> list[bool]:
    """Request bodies as the action server reads them: the same JSON as `json.dumps`."""
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    tracker = DialogueStateTracker.from_events("kind", [
        event for answer in REAL for event in
        [Event.from_parameters(e) for e in answer["events"] if e["event"] != "form"] if event
    ])
    values = [tracker.current_state(EventVerbosity.ALL),
              {"tekst": "héél fijn 💛 / \u0000 \\ \"", "n": [1.5, 1e300, -0.0, 2**62]},
              {"float": float("inf")}, {1: "int key"}]
    return [json.loads(speedups.dumps(v)) == json.loads(json.dumps(v)) for v in values]


def call_formats() -> dict:
    """What Rasa sends the action server, and what it sends once the speedups are in."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_dict({
        "intents": ["greet"], "slots": {"wish": {"type": "text", "mappings": [
            {"type": "from_text"}]}},
        "responses": {"utter_greet": [{"text": "Hoi {wish}"}]}})
    turns = []
    for n in range(5):
        at = 1_000.0 + n
        turns += [ActionExecuted("action_listen", timestamp=at),
                  UserUttered(f"wens {n}", {"name": "greet"}, timestamp=at),
                  SlotSet("wish", f"wens {n}", timestamp=at), BotUttered(f"fijn {n}", timestamp=at)]
    turns.append(ActiveLoop("wish_form", timestamp=1_010.0))  # started by "wens 4"
    tracker = DialogueStateTracker.from_events("kind", turns, domain.slots)
    remote = RemoteAction("action_store_wish", None)
    return {"call": remote._action_call_format(tracker, domain), "domain": domain.as_dict()}


def debug_log_copies() -> dict:
    """In each module whose `copy` is replaced: every use of `copy` is a `deepcopy`
    handed as an argument to `structlogger.debug`, and what the module's `copy.deepcopy`
    does with debug logging off and on."""
    import ast
    import importlib
    import inspect
    import logging

    uses, in_debug_logs = 0, 0
    for name in speedups.DEBUG_LOG_COPIERS:
        module = importlib.import_module(name)
        tree = ast.parse(inspect.getsource(module))
        debug_args = set()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "debug"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "structlogger"):
                debug_args |= {id(k.value) for k in node.keywords}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "copy":
                uses += 1
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "deepcopy" and id(node) in debug_args
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "copy"):
                in_debug_logs += 1
    value = {"events": [1, 2]}
    rasa_logger = logging.getLogger("rasa")
    level = rasa_logger.level
    module = importlib.import_module(speedups.DEBUG_LOG_COPIERS[0])
    rasa_logger.setLevel(logging.INFO)
    off = module.copy.deepcopy(value) is value
    rasa_logger.setLevel(logging.DEBUG)
    on = module.copy.deepcopy(value)
    rasa_logger.setLevel(level)
    return {"uses": uses, "in_debug_logs": in_debug_logs, "off_same": off,
            "on_copied": on == value and on is not value and on["events"] is not value["events"]}


def kept_connections() -> dict:
    """Action calls through `EndpointConfig.request` on one event loop: the answers, and
    how many TCP connections a loopback server saw; then the sessions closed at stop."""
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    async def run() -> dict:
        peers: set = set()

        async def answer(request: web.Request) -> web.Response:
            peers.add(request.transport.get_extra_info("peername")[1])
            body = await request.json()
            return web.json_response({"echo": body["n"],
                                      "auth": "Authorization" in request.headers})

        app = web.Application()
        app.router.add_post("/webhook", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/webhook"
        plain = EndpointConfig(url)
        echoes = [(await plain.request(json={"n": n}, method="post"))["echo"] for n in range(20)]
        sequential_peers = len(peers)
        # Ten at once: a connection is never shared by two requests in flight.
        echoes += [r["echo"] for r in await asyncio.gather(
            *(plain.request(json={"n": n}, method="post") for n in range(20, 30)))]
        concurrent_peers = len(peers)
        authed = await EndpointConfig(url, basic_auth={"username": "a", "password": "b"}
                                      ).request(json={"n": 0}, method="post")
        sessions = list(speedups._SESSIONS.values())
        await speedups.close_endpoint_sessions()
        await runner.cleanup()
        return {"echoes": echoes == list(range(30)), "peers": concurrent_peers,
                "sequential_peers": sequential_peers, "auth": authed["auth"],
                "sessions": len(sessions), "closed": all(s.closed for s in sessions),
                "left": len(speedups._SESSIONS)}

    return asyncio.run(run())


def emptiness() -> list[bool]:
    """`Domain.is_empty` of an empty domain, of the project's, and of one that only
    lists an intent."""
    from rasa.shared.core.domain import Domain

    return [Domain.empty().is_empty(), Domain.load("domain").is_empty(),
            Domain.from_dict({"intents": ["greet"]}).is_empty(), Domain.empty().is_empty()]


def form_validation_calls() -> dict:
    """What `FormAction.validate_slots` hands on to Rasa's own (which calls the action
    server), with and without slot candidates."""
    from rasa.core.actions.forms import FormAction

    from bot.nlu import form_calls

    handed_on: list = []

    async def rasas_own(self, candidates, *args, **kwargs):
        handed_on.append(dict(candidates))
        return ["validated"]

    original, form_calls._ORIGINAL[0] = form_calls._ORIGINAL[0], rasas_own
    try:
        form = FormAction("wish_form", None)

        async def both():
            return [await form.validate_slots({}, None, None, None, None),
                    await form.validate_slots({"wish": "een hond"}, None, None, None, None)]

        answers = asyncio.run(both())
    finally:
        form_calls._ORIGINAL[0] = original
    return {"installed": FormAction.validate_slots is form_calls.validate_slots,
            "answers": answers, "handed_on": handed_on}


action = RemoteAction.__new__(RemoteAction)
empty_before = emptiness()
calls_before = call_formats()
before = verdicts(action)
events_before = resolved()
texts_before = interpolated()
speedups.install()
after = verdicts(action)
events_after = resolved()
texts_after = interpolated()
calls_after = call_formats()
empty_after = emptiness()
print("PROBE " + json.dumps({"empty_before": empty_before, "empty_after": empty_after,
                              "form_calls": form_validation_calls(),
                              "before": before, "after": after,
                              "events_before": events_before, "events_after": events_after,
                              "texts_before": texts_before, "texts_after": texts_after,
                              "bodies": bodies(), "calls_before": calls_before,
                              "calls_after": calls_after,
                              "late": late_subclass(),
                              "kept": kept_connections(),
                              "debug_log_copies": debug_log_copies(),
                              "parsed": Event.from_parameters(GOOD["events"][0]).as_dict(),
                              "patched": RemoteAction._validate_action_result
                              is speedups.validate_action_result
                              and Event.resolve_by_type is speedups.resolve_by_type
                              and rasa.core.nlg.interpolator.interpolate_text
                              is speedups.interpolate_text}))
