"""bot/nlu/speedups.py inside Rasa's own environment: the action server's answers are
validated exactly as Rasa does, with the schema validator built once, and event types
are resolved exactly as Rasa resolves them, from a table built once."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

import pytest

from bot.model import ensure_model, rasa_env
from bot.settings import PROJECT_ROOT

PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
# A probe replays every step of the story tests' conversations (about a minute alone on
# this machine); a fresh-clone run of the whole suite on two shared cores can take
# several times that.
PROBE_SECONDS = 1200


@functools.cache
def _probe(name: str = "rasa_speedups_probe.py", *args: str) -> dict:
    run = subprocess.run(
        [str(PYTHON), str(Path(__file__).with_name(name)), *args],
        cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=PROBE_SECONDS,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("PROBE ")), None)
    assert line, run.stdout[-2000:] + run.stderr[-4000:]
    return json.loads(line.removeprefix("PROBE "))


def test_action_results_are_judged_as_rasa_judges_them():
    out = _probe()
    assert out["patched"]
    assert out["after"] == out["before"]
    assert out["after"][0] == "ok" and all(v.startswith("refused") for v in out["after"][1:4])
    assert out["after"].count("ok") >= 20  # every kind of event Rasa writes


def test_event_types_resolve_as_rasa_resolves_them():
    out = _probe()
    assert out["events_after"] == out["events_before"]
    assert "slot: SlotSet" in out["events_after"]
    assert "topic: None" in out["events_after"]
    assert "default: SlotSet" in out["events_after"]
    assert "unknown: Unknown event name 'no_such_event'." in out["events_after"]
    assert out["late"] == "ProbeEvent"
    assert out["parsed"]["event"] == "slot" and out["parsed"]["value"] == "een hond"


def test_an_empty_domain_is_known_as_rasa_knows_it():
    out = _probe()
    assert out["empty_after"] == out["empty_before"] == [True, False, False, True]


def test_a_form_calls_its_validation_only_with_slot_candidates():
    out = _probe()["form_calls"]
    assert out["installed"]
    assert out["answers"] == [[], ["validated"]]
    assert out["handed_on"] == [{"wish": "een hond"}]


def test_request_bodies_hold_the_same_json():
    assert _probe()["bodies"] == [True, True, True, True]


def test_the_action_server_gets_the_recent_events_and_the_domain_without_responses():
    out = _probe()
    before, after = out["calls_before"]["call"], out["calls_after"]["call"]
    assert {k: v for k, v in after.items() if k not in ("tracker", "domain")} == {
        k: v for k, v in before.items() if k not in ("tracker", "domain")}
    state = {k: v for k, v in after["tracker"].items() if k != "events"}
    assert state == {k: v for k, v in before["tracker"].items() if k != "events"}
    assert state["slots"]["wish"] == "wens 4"
    assert state["active_loop"]["name"] == "wish_form"
    assert state["active_loop"]["trigger_message"]["text"] == "wens 4"
    # The events from the third user message back: a suffix of what Rasa sent.
    events = after["tracker"]["events"]
    assert events == before["tracker"]["events"][-len(events):]
    assert [e["text"] for e in events if e["event"] == "user"] == ["wens 2", "wens 3", "wens 4"]
    assert events[0]["event"] == "user"
    assert after["domain"] == {k: v for k, v in before["domain"].items() if k != "responses"}
    assert "responses" in before["domain"] and "slots" in after["domain"]


def test_action_calls_reuse_open_connections():
    """Rasa opened a session and a TCP connection per action call; one kept session per
    event loop and endpoint settings reuses them, and is closed when the server stops."""
    kept = _probe()["kept"]
    assert kept["echoes"]
    assert kept["sequential_peers"] == 1  # 20 calls in a row share one connection
    assert kept["peers"] <= 10  # ten at once need at most ten
    assert kept["auth"] and kept["sessions"] == 2  # other settings, another session
    assert kept["closed"] and kept["left"] == 0


def test_responses_are_filled_in_as_rasa_fills_them():
    out = _probe()
    assert out["texts_after"] == out["texts_before"]
    assert out["texts_after"][:4] == ["Hoi!", "Hoi Sam!", "Hoi {unknown}!",
                                      '/choose{"choice":"all"}']
    assert out["texts_after"][5].startswith("error: ")  # str.format's own complaint


@pytest.mark.timeout(1500)
def test_rule_policy_predicts_the_same_from_the_tail_of_the_states():
    """Every step of the story tests' conversations, and of long conversations made by
    joining them: the same probabilities, events and hidden turns as Rasa's own."""
    out = _probe("rule_tail_probe.py", str(ensure_model()))
    assert out["steps"] > 1000
    assert 0 < out["tail"] < out["longest"]  # the long conversations are cut to a tail
    assert out["after"] == out["before"]
    # The NLU graph, run through the graph runner, and slot copies: as Rasa's own.
    assert out["parsed_after"] == out["parsed_before"]
    assert out["parsed_after"][0][0] == "greet"
    assert len(out["parsed_after"]) > 100  # a few examples of every intent
    # The processor's predictions through the policy graph: as Rasa's own (dask) ones.
    assert len(out["graph_after"]) > 300
    assert out["graph_after"] == out["graph_before"]
    # One growing tracker per conversation (with a revert, an undone action, a restart
    # and a new session in one): the states carried on between predictions are those
    # of a new tracker made of the same events, and so are the predictions.
    assert len(out["live"]) > 1000 and out["carried"] > 500
    assert out["live"] == out["live_fresh"]
    assert out["copies_after"] == out["copies_before"]
    assert all(copy[3] and copy[4] for copy in out["copies_after"])
    # A model loaded with the speed-ups: the classifier's coefficients in column order,
    # and every confidence the same to the last bit.
    assert out["orders_before"] == [False] and out["orders_loaded"] == [True]
    assert len(out["exact_loaded"]) > 100
    assert out["exact_loaded"] == out["exact_before"] == out["exact_rasa"]
    # The classifier's input, built at once: the matrix Rasa's joins made, entry by entry.
    assert len(out["matrices_after"]) > 100
    assert out["matrices_after"] == out["matrices_rasa"]


@pytest.mark.timeout(1500)
def test_tracker_copies_equal_rasas_replayed_ones():
    """Copies for each action and a form's temporary trackers, made from the tracker's
    state: equal to Rasa's replay of every event, field by field, at every step of the
    story tests' conversations (with the processor's model id and our store's mark)."""
    out = _probe("tracker_copy_probe.py", str(ensure_model()))
    assert out["compared"] > 1500
    assert out["temporary"] > 300  # steps inside a form
    assert out["fast"] > 0.9 * out["compared"]  # not Rasa's own code again
    assert out["fast"] < out["compared"]  # the restarted conversation: Rasa's own code
    assert out["differ"] == 0, out["first_difference"]
    assert out["store_mark_known"]  # else every saved tracker goes to Rasa's own code
    applied = out["applied"]
    assert applied["compared"] > 5000
    assert applied["carried"] > 0.8 * applied["compared"]  # not Rasa's own walk again
    assert applied["differ"] == 0


def test_deep_copies_for_debug_logs_are_made_only_when_debug_logging_is_on():
    out = _probe()["debug_log_copies"]
    # Rasa 3.6.21: ten such copies in the three modules, and no other use of `copy`.
    assert out["uses"] == out["in_debug_logs"] == 10
    assert out["off_same"]
    assert out["on_copied"]
