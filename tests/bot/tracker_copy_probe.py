"""Run by test_rasa_speedups.py with .venv-rasa's Python: a tracker copy and a form's
temporary tracker made by `speedups` (from the state) equal Rasa's own (a replay of
every event) at every step of the story tests' conversations, of long conversations
made by joining them, and of one with a restart (where Rasa's own code runs). And
`applied_events`, carried on from a tracker's last call, equals Rasa's walk over the
whole conversation after every event of those conversations (and of ones with reverted
turns and actions)."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from rasa.core.actions.forms import FormAction
from rasa.core.agent import Agent
from rasa.shared.core.events import (
    ActionReverted,
    Restarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rule_tail_probe import story_conversations, tracker_steps

from bot.nlu import speedups
from bot.nlu.tracker_store import STORED


def event_ref(event: Any, source: DialogueStateTracker) -> Any:
    """The index of an event of the source tracker (the same object), else its dict."""
    for index, own in enumerate(source.events):
        if own is event:
            return index
    data = event.as_dict()
    data.pop("timestamp", None)
    return data


def fingerprint(made: DialogueStateTracker, source: DialogueStateTracker) -> str:
    state = made.current_state(EventVerbosity.ALL)
    for event in state["events"]:
        event.pop("timestamp", None)
    state.pop("latest_event_time")
    return json.dumps({
        "class": type(made).__name__,
        "fields": sorted(vars(made)),
        "events": [event_ref(e, source) for e in made.events],
        "maxlen": made.events.maxlen,
        "slots": [[name, type(slot).__name__, repr(sorted(vars(slot).items())),
                   slot is not source.slots.get(name)] for name, slot in made.slots.items()],
        "active_loop": (None if made.active_loop is None else
                        [dataclasses.asdict(made.active_loop),
                         made.active_loop is not source.active_loop]),
        "latest_action": [made.latest_action, made.latest_action is not source.latest_action],
        "latest_message": event_ref(made.latest_message, source),
        "latest_bot_utterance": event_ref(made.latest_bot_utterance, source),
        "values": [made.sender_id, made.sender_source, made.is_rule_tracker,
                   made._max_event_history, made._paused, made.followup_action,
                   made.model_id, made.assistant_id],
        "state": state,
    }, sort_keys=True, default=str)


def made_from(steps: list[DialogueStateTracker], domain: Any) -> list[str]:
    """Per step: its copy, and for a step inside a form, the form's temporary tracker
    (marked "form:")."""
    out = []
    for step in steps:
        out.append(fingerprint(step.copy(), step))
        form = step.active_loop_name
        if form:
            slot = next(iter(domain.required_slots_for_form(form)), "requested_slot")
            temporary = FormAction(form, None)._temporary_tracker(
                step, [SlotSet(slot, "probe")], domain)
            out.append("form:" + fingerprint(temporary, step))
    return out


def applied_walks(conversations: list[DialogueStateTracker]) -> dict[str, int]:
    """Each conversation built event by event on one tracker, as Rasa builds it in a
    turn, with `applied_events` asked after every event (twice after every third):
    compared with Rasa's own walk over the same tracker."""
    walked = {"carried": 0}
    walk = speedups._walk

    def counting(*args: Any) -> None:
        walked["carried"] += 1
        walk(*args)

    speedups._walk = counting
    rasa_own = speedups._ORIGINALS["applied_events"]
    compared = differ = 0
    for conversation in conversations:
        tracker = DialogueStateTracker(conversation.sender_id, conversation.slots.values())
        for index, event in enumerate(conversation.events):
            tracker.update(event)
            for _ in range(2 if index % 3 == 0 else 1):
                ours = [id(e) for e in tracker.applied_events()]
                compared += 1
                differ += ours != [id(e) for e in rasa_own(tracker)]
    speedups._walk = walk
    return {"compared": compared, "differ": differ, "carried": walked["carried"]}


def main(model: str) -> None:
    agent = Agent.load(model)
    domain = agent.domain
    stories, joined = story_conversations(agent)
    restarted = DialogueStateTracker.from_events(
        "restarted", [*stories[0].events, Restarted(), *stories[1].events],
        stories[0].slots.values())
    steps = [step for tracker in [*stories, *joined, restarted]
             for step in tracker_steps(tracker)]
    for index, step in enumerate(steps):
        # As the processor has them: with the model's and assistant's ids, and some as
        # our tracker store leaves them after a save.
        step.model_id, step.assistant_id = "model", "assistant"
        if index % 2:
            setattr(step, STORED, len(step.events))
    before = made_from(steps, domain)
    speedups.install()
    fast = {"made": 0}
    replayed_state = speedups.replayed_state

    def counting(*args: Any, **kwargs: Any) -> Any:
        made = replayed_state(*args, **kwargs)
        fast["made"] += made is not None
        return made

    speedups.replayed_state = counting
    after = made_from(steps, domain)
    differ = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if a != b]
    reverted = DialogueStateTracker.from_events(
        "reverted", [*stories[0].events, UserUtteranceReverted(), *stories[1].events,
                     ActionReverted(), *stories[2].events], stories[0].slots.values())
    print("PROBE " + json.dumps({
        "compared": len(after), "differ": len(differ), "fast": fast["made"],
        "first_difference": [before[differ[0]], after[differ[0]]] if differ else None,
        "temporary": sum(f.startswith("form:") for f in after),
        "store_mark_known": STORED in speedups.TRACKER_FIELDS,
        "applied": applied_walks([*stories, *joined, restarted, reverted]),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
