"""Run by test_rasa_speedups.py with .venv-rasa's Python: the RulePolicy of the project's
trained model predicts the same with and without `speedups` building only the tail of
the dialogue states, for every step of the story tests' conversations and of long
conversations made by joining them."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from rasa.core.agent import Agent
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.test import _create_data_generator
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu import speedups


def predictions(policy: RulePolicy, trackers: list[DialogueStateTracker],
                domain: object, rule_only_data: dict) -> list[list]:
    out = []
    for tracker in trackers:
        for step in tracker_steps(tracker):
            prediction = policy.predict_action_probabilities(
                step, domain, rule_only_data=rule_only_data)
            out.append([
                [round(p, 6) for p in prediction.probabilities],
                [e.as_dict()["event"] for e in prediction.events],
                prediction.hide_rule_turn, prediction.is_end_to_end_prediction,
            ])
    return out


MESSAGES = ["hoi", "ja", "nee", "weet ik niet", "/start ABC123", "ik wil bij mijn broer wonen",
            "hij slaat me", "stop"]


def nlu_examples(per_intent: int = 4) -> list[str]:
    """A few training examples of every intent (without entity markup)."""
    import glob

    import yaml

    texts = []
    for path in sorted(glob.glob("data/nlu/*.yml")):
        for item in yaml.safe_load(Path(path).read_text()).get("nlu") or []:
            lines = str(item.get("examples") or "").splitlines()
            texts += [ln[2:].strip() for ln in lines if ln.startswith("- ")
                      and "[" not in ln][:per_intent]
    return texts


def parsed(agent: Agent) -> list:
    """The NLU graph's answers (through the graph runner) for a few messages and a few
    examples of every intent: intent, confidence and ranking, entities."""
    async def parse_all() -> list:
        return [await agent.parse_message(text) for text in [*MESSAGES, *nlu_examples()]]

    results = asyncio.run(parse_all())
    return [[r["intent"]["name"], round(r["intent"]["confidence"], 6),
             [[i["name"], round(i["confidence"], 6)] for i in r.get("intent_ranking", [])],
             sorted((e["entity"], str(e.get("value"))) for e in r.get("entities", []))]
            for r in results]


def exact(agent: Agent) -> list:
    """Every intent's confidence for the same messages, as exact float text."""
    async def parse_all() -> list:
        return [await agent.parse_message(text) for text in [*MESSAGES, *nlu_examples()]]

    return [[[i["name"], repr(i["confidence"])] for i in r.get("intent_ranking", [])]
            for r in asyncio.run(parse_all())]


def feature_matrices(agent: Agent) -> list:
    """The intent classifier's input matrix for each of the same messages: dtype,
    values (exact), column indices and row starts."""
    from rasa.nlu.classifiers.logistic_regression_classifier import (
        LogisticRegressionClassifier,
    )

    made = []
    create = LogisticRegressionClassifier._create_X

    def keep(self, messages):  # type: ignore[no-untyped-def]
        matrix = create(self, messages)
        made.append([str(matrix.dtype), str(matrix.indices.dtype), list(matrix.shape),
                     [repr(v) for v in matrix.data], matrix.indices.tolist(),
                     matrix.indptr.tolist()])
        return matrix

    LogisticRegressionClassifier._create_X = keep  # type: ignore[method-assign]
    try:
        exact(agent)
    finally:
        LogisticRegressionClassifier._create_X = create  # type: ignore[method-assign]
    return made


def classifier_orders(agent: Agent) -> list[bool]:
    """For each logistic regression classifier in the graph: is its coefficient matrix
    stored in Fortran order (its transpose in row order)?"""
    nodes = agent.processor.graph_runner._instantiated_nodes  # type: ignore[union-attr]
    return [bool(n._component.clf.coef_.flags.f_contiguous) for n in nodes.values()
            if type(n._component).__name__ == "LogisticRegressionClassifier"]


def graph_predictions(agent: Agent, trackers: list[DialogueStateTracker]) -> list:
    """What the processor predicts (the policy graph, through the graph runner) at every
    third step of the conversations."""
    processor = agent.processor
    out = []
    for tracker in trackers:
        for step in tracker_steps(tracker)[::3]:
            prediction = processor._predict_next_with_tracker(step)  # type: ignore[union-attr]
            out.append([prediction.policy_name, prediction.max_confidence_index,
                        round(prediction.max_confidence, 6),
                        [e.as_dict()["event"] for e in prediction.events]])
    return out


def live_predictions(policy: RulePolicy, trackers: list[DialogueStateTracker],
                     domain: object, rule_only_data: dict) -> dict:
    """Each conversation run on one growing tracker, as Rasa's processor runs a turn:
    the states and predictions at every step, from the states carried on between
    predictions and from a new tracker made of the same events (nothing carried on).
    Also with a revert, an undone action, a restart and a new session inserted."""
    from rasa.shared.core.events import (
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
    )

    def states_and_prediction(tracker: DialogueStateTracker) -> list:
        states = policy._prediction_states(tracker, domain, rule_only_data=rule_only_data)
        prediction = policy.predict_action_probabilities(
            tracker, domain, rule_only_data=rule_only_data)
        return [[sorted((k, sorted(v.items())) for k, v in state.items())
                 for state in states],
                [round(p, 6) for p in prediction.probabilities],
                [e.as_dict()["event"] for e in prediction.events], prediction.hide_rule_turn]

    conversations = [list(t.events) for t in trackers]
    long = conversations[-1]
    edits = [UserUtteranceReverted(), ActionReverted(), Restarted(), SessionStarted()]
    edited = list(long)
    for n, edit in enumerate(edits):
        at = (n + 1) * len(long) // (len(edits) + 1)
        edited[at:at] = [edit]
    conversations.append(edited)
    live_out, fresh_out, carried = [], [], 0
    for events in conversations:
        live = DialogueStateTracker.from_events("live", [], trackers[0].slots.values())
        for index, event in enumerate(events):
            if isinstance(event, ActionExecuted) and index:
                carried += speedups.RULE_STATES in live.__dict__
                live_out.append(states_and_prediction(live))
                fresh = DialogueStateTracker.from_events(
                    "live", events[:index], trackers[0].slots.values())
                fresh_out.append(states_and_prediction(fresh))
            live.update(event)
    return {"live": live_out, "fresh": fresh_out, "carried": carried}


def slot_copies(tracker: DialogueStateTracker) -> list:
    """A tracker made from another: its slots are copies (not the same objects) with the
    same class and values."""
    copied = tracker.copy()
    return [[name, type(slot).__name__, repr(slot.value), slot is not tracker.slots[name],
             vars(slot) == vars(tracker.slots[name])]
            for name, slot in copied.slots.items()]


def tracker_steps(tracker: DialogueStateTracker) -> list[DialogueStateTracker]:
    """The tracker as it stood before each of its actions."""
    steps = []
    for index, event in enumerate(tracker.events):
        if isinstance(event, ActionExecuted) and index:
            steps.append(DialogueStateTracker.from_events(
                tracker.sender_id, list(tracker.events)[:index], tracker.slots.values()))
    return steps


def story_conversations(agent: Agent) -> tuple[list[DialogueStateTracker],
                                               list[DialogueStateTracker]]:
    """The story tests' conversations, and two long ones made by joining them."""
    generator = _create_data_generator("tests/test_stories.yml", agent,
                                       use_conversation_test_files=True)
    stories = generator.generate_story_trackers()
    joined = []
    for first, second in list(zip(stories, stories[1:] + stories[:1], strict=True))[:2]:
        events = [*first.events, *second.events, *first.events]
        joined.append(DialogueStateTracker.from_events("joined", events, first.slots.values()))
    return stories, joined


def main(model: str) -> None:
    agent = Agent.load(model)
    nodes = agent.processor.graph_runner._instantiated_nodes  # type: ignore[union-attr]
    policy = next(n._component for n in nodes.values() if isinstance(n._component, RulePolicy))
    domain = agent.domain
    stories, joined = story_conversations(agent)
    trackers = [*stories, *joined]
    rule_only_data = policy._get_rule_only_data()
    before = predictions(policy, trackers, domain, rule_only_data)
    parsed_before = parsed(agent)
    copies_before = slot_copies(trackers[-1])
    graph_before = graph_predictions(agent, trackers)
    exact_rasa = exact(agent)
    matrices_rasa = feature_matrices(agent)
    speedups.install()
    matrices_after = feature_matrices(agent)
    after = predictions(policy, trackers, domain, rule_only_data)
    parsed_after = parsed(agent)
    copies_after = slot_copies(trackers[-1])
    graph_after = graph_predictions(agent, trackers)
    live = live_predictions(policy, trackers, domain, rule_only_data)
    # A model loaded with the speed-ups in place (the classifier's coefficients in
    # column order): the same confidences to the last bit, unrounded.
    exact_before = exact(agent)
    loaded = Agent.load(model)
    exact_loaded = exact(loaded)
    tail = speedups._rule_tail(policy)
    longest = max(len(tracker_steps(t)) for t in trackers)
    print("PROBE " + json.dumps({"before": before, "after": after, "tail": tail,
                                 "parsed_before": parsed_before, "parsed_after": parsed_after,
                                 "copies_before": copies_before, "copies_after": copies_after,
                                 "graph_before": graph_before, "graph_after": graph_after,
                                 "longest": longest, "steps": len(after),
                                 "live": live["live"], "live_fresh": live["fresh"],
                                 "carried": live["carried"],
                                 "exact_before": exact_before, "exact_loaded": exact_loaded,
                                 "exact_rasa": exact_rasa, "matrices_rasa": matrices_rasa,
                                 "matrices_after": matrices_after,
                                 "orders_before": classifier_orders(agent),
                                 "orders_loaded": classifier_orders(loaded)}))


if __name__ == "__main__":
    main(sys.argv[1])
