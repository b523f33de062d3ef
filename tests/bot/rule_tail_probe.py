"""Run by test_rasa_speedups.py with .venv-rasa's Python: the RulePolicy of the project's
trained model predicts the same with and without `speedups` building only the tail of
the dialogue states, for every step of the story tests' conversations and of long
conversations made by joining them."""

from __future__ import annotations

import json
import sys

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


def tracker_steps(tracker: DialogueStateTracker) -> list[DialogueStateTracker]:
    """The tracker as it stood before each of its actions."""
    steps = []
    for index, event in enumerate(tracker.events):
        if isinstance(event, ActionExecuted) and index:
            steps.append(DialogueStateTracker.from_events(
                tracker.sender_id, list(tracker.events)[:index], tracker.slots.values()))
    return steps


def main(model: str) -> None:
    agent = Agent.load(model)
    nodes = agent.processor.graph_runner._instantiated_nodes  # type: ignore[union-attr]
    policy = next(n._component for n in nodes.values() if isinstance(n._component, RulePolicy))
    domain = agent.domain
    generator = _create_data_generator("tests/test_stories.yml", agent,
                                       use_conversation_test_files=True)
    stories = generator.generate_story_trackers()
    joined = []
    for first, second in list(zip(stories, stories[1:] + stories[:1], strict=True))[:2]:
        events = [*first.events, *second.events, *first.events]
        joined.append(DialogueStateTracker.from_events("joined", events, first.slots.values()))
    trackers = [*stories, *joined]
    rule_only_data = policy._get_rule_only_data()
    before = predictions(policy, trackers, domain, rule_only_data)
    speedups.install()
    after = predictions(policy, trackers, domain, rule_only_data)
    tail = speedups._rule_tail(policy)
    longest = max(len(tracker_steps(t)) for t in trackers)
    print("PROBE " + json.dumps({"before": before, "after": after, "tail": tail,
                                 "longest": longest, "steps": len(after)}))


if __name__ == "__main__":
    main(sys.argv[1])
