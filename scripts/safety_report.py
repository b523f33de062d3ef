"""Recall and false alarms of safety detection, per tier.

    .venv/bin/python -m scripts.safety_report                 # the detector (rules and
                                                              # learned layer)
    .venv-rasa/bin/python -m scripts.safety_report --model models/NAME.tar.gz
                                          # also the trained model's NLU (classifier +
                                          # rule layer); a bare --model finds the model
                                          # through the app's settings, in .venv only
    .venv/bin/python -m scripts.safety_report --set tests/safety/dev_set.yml [--model]

Options: --model PATH (default: the up-to-date model in models/), --set PATH (a set with
`alarm`, `concern` and `calm` lists: per-tier figures for it), --json (machine-readable,
used by tests/safety/test_layered.py), --verbose (list every miss and false alarm).

Without --set the committed set (tests/safety/safety_set.yml) is measured, as before,
plus its per-tier figures. Per tier means:

- alarm recall: alarm sentences caught as an alarm, and caught as alarm-or-concern
- concern recall: concern sentences caught as concern-or-alarm
- calm false alarm rate: calm sentences raising an urgent alert (an alarm); calm concern
  rate: calm sentences getting the gentle concern answer
- immediate recall: sentences marked `immediate: true` answered with "bel nu 112" first

The layered figure is what the bot does: the `safety_alarm` / `safety_concern` intent and
the `safety_immediate` entity out of the trained model's NLU, whether they came from the
classifier or from `bot.nlu.safety.SafetyDetector` in the pipeline. (In the product the
REST channel runs the detector and passes its verdict in the metadata; the component
uses it instead of scanning, which gives the same verdict. Here no metadata is sent, so
the component scans, as in `rasa test`.)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SAFETY_SET = ROOT / "tests" / "safety" / "safety_set.yml"
ALARM_INTENT = "safety_alarm"
CONCERN_INTENT = "safety_concern"
# A concern no rule named, on an answer: still the concern tier (bot/nlu/safety.py).
UNCLEAR_INTENT = "safety_unclear"
SAFETY_INTENTS = (ALARM_INTENT, CONCERN_INTENT, UNCLEAR_INTENT)


def load_set(path: Path = SAFETY_SET) -> tuple[list[dict[str, str]], list[str]]:
    data = yaml.safe_load(path.read_text())
    return list(data["alarm"]), [str(t) for t in data["calm"]]


def load_holdout(path: Path = SAFETY_SET) -> tuple[list[dict[str, str]], list[str]]:
    """Sentences never used to tune anything: the honest generalisation estimate."""
    data = yaml.safe_load(path.read_text()).get("holdout") or {}
    return list(data.get("alarm") or []), [str(t) for t in data.get("calm") or []]


def other_intent_examples(root: Path = ROOT) -> list[str]:
    """Training examples of every other intent: everyday messages that must stay calm."""
    texts: list[str] = []
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
            if "intent" in item and item["intent"] not in SAFETY_INTENTS:
                texts += [
                    line.strip()[2:].strip()
                    for line in str(item.get("examples", "")).splitlines()
                    if line.strip().startswith("- ")
                ]
    return texts


Item = dict[str, Any]
# A verdict for the figures: (tier or None, immediate).
Outcome = tuple[str | None, bool]


def load_tiered(path: Path) -> dict[str, list[Item]]:
    """alarm / concern / calm items ({"text", "category"?, "immediate"?}) of a set."""
    data = yaml.safe_load(path.read_text()) or {}

    def items(values: Any) -> list[Item]:
        return [v if isinstance(v, dict) else {"text": str(v)} for v in values or []]

    return {tier: items(data.get(tier)) for tier in ("alarm", "concern", "calm")}


def tier_figures(sets: dict[str, list[Item]], outcome: dict[str, Outcome]) -> dict[str, Any]:
    """Per-tier figures from each text's outcome (tier, immediate)."""
    alarms, concerns, calm = sets["alarm"], sets["concern"], sets["calm"]

    def rate(items: list[Item], hit: Any) -> float | None:
        return sum(1 for i in items if hit(outcome[i["text"]])) / len(items) if items else None

    def misses(items: list[Item], hit: Any) -> list[str]:
        return [f"{i['text']} ({i.get('category', '')})" for i in items
                if not hit(outcome[i["text"]])]

    immediate = [a for a in alarms if a.get("immediate") is True]
    return {
        "alarms": len(alarms), "concerns": len(concerns), "calm": len(calm),
        "alarm_recall_as_alarm": rate(alarms, lambda o: o[0] == "alarm"),
        "alarm_recall_any_tier": rate(alarms, lambda o: o[0] is not None),
        "concern_recall_any_tier": rate(concerns, lambda o: o[0] is not None),
        "calm_false_alarm_rate": rate(calm, lambda o: o[0] == "alarm"),
        "calm_concern_rate": rate(calm, lambda o: o[0] == "concern"),
        "immediate": len(immediate),
        "immediate_recall_112": rate(immediate, lambda o: o[0] == "alarm" and o[1]),
        "alarms_missed": misses(alarms, lambda o: o[0] is not None),
        "alarms_only_concern": [f"{a['text']} ({a.get('category', '')})" for a in alarms
                                if outcome[a["text"]][0] == "concern"],
        "concerns_missed": misses(concerns, lambda o: o[0] is not None),
        "calm_alarms": [c["text"] for c in calm if outcome[c["text"]][0] == "alarm"],
        "calm_concerns": [c["text"] for c in calm if outcome[c["text"]][0] == "concern"],
        "immediate_missed": misses(immediate, lambda o: o[0] == "alarm" and o[1]),
    }


def committed_as_tiered(path: Path = SAFETY_SET) -> dict[str, list[Item]]:
    """The committed set (alarm and calm, holdout included) in the tiered shape."""
    alarms, calm = load_set(path)
    held_alarms, held_calm = load_holdout(path)
    return {"alarm": [*alarms, *held_alarms], "concern": [],
            "calm": [{"text": t} for t in [*calm, *held_calm]]}


def detector_tiers(sets: dict[str, list[Item]], *, learned: bool = True) -> dict[str, Any]:
    from bot.safety.detector import get_detector, verdict_of

    detector = get_detector()
    texts = {i["text"] for items in sets.values() for i in items}
    outcome: dict[str, Outcome] = {}
    for text in texts:
        verdict = verdict_of(detector.analyse(text, learned=learned))
        outcome[text] = (verdict.tier, verdict.immediate)
    return tier_figures(sets, outcome)


def detector_figures() -> dict[str, Any]:
    from bot.safety.detector import detect, get_detector

    alarms, calm = load_set()
    started = time.perf_counter()
    get_detector()
    build = time.perf_counter() - started
    missed, wrong_category, false_alarms = [], [], []
    timings = []
    for item in alarms:
        t0 = time.perf_counter()
        signal = detect(item["text"])
        timings.append(time.perf_counter() - t0)
        if signal is None:
            missed.append(item["text"])
        elif signal.category != item["category"]:
            wrong_category.append(f"{item['text']} ({item['category']} -> {signal.category})")
    for text in calm:
        t0 = time.perf_counter()
        signal = detect(text)
        timings.append(time.perf_counter() - t0)
        if signal is not None:
            false_alarms.append(f"{text} ({signal.category}: {signal.rule})")
    others = other_intent_examples()
    other_false = [t for t in others if detect(t) is not None]
    from bot.safety.detector import assess

    other_concerns = [t for t in others if assess(t).tier == "concern"]
    held_alarms, held_calm = load_holdout()
    held_missed = [a["text"] for a in held_alarms if detect(a["text"]) is None]
    held_false = [t for t in held_calm if detect(t) is not None]
    timings.sort()
    return {
        "alarms": len(alarms),
        "calm": len(calm),
        "recall": (len(alarms) - len(missed)) / len(alarms),
        "false_alarm_rate": len(false_alarms) / len(calm),
        "category_agreement": (len(alarms) - len(missed) - len(wrong_category)) / len(alarms),
        "missed": missed,
        "false_alarms": false_alarms,
        "wrong_category": wrong_category,
        "other_intent_examples": len(others),
        "other_intent_false_alarms": other_false,
        "other_intent_concerns": other_concerns,
        "holdout_recall": 1 - len(held_missed) / max(1, len(held_alarms)),
        "holdout_false_alarm_rate": len(held_false) / max(1, len(held_calm)),
        "holdout_missed": held_missed,
        "holdout_false_alarms": held_false,
        "build_seconds": build,
        "latency_ms_median": 1000 * timings[len(timings) // 2],
        "latency_ms_p95": 1000 * timings[int(len(timings) * 0.95)],
        "latency_ms_max": 1000 * timings[-1],
    }


def _load_agent(model: Path) -> Any:
    import logging
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)
    logging.disable(logging.WARNING)
    return Agent.load(str(model))


def _parse(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    import asyncio

    async def parse_all() -> list[dict[str, Any]]:
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(parse_all())


def layered_outcome(result: dict[str, Any]) -> Outcome:
    intent = (result.get("intent") or {}).get("name")
    tier = {"safety_alarm": "alarm", "safety_concern": "concern",
            "safety_unclear": "concern"}.get(str(intent))
    immediate = any(e.get("entity") == "safety_immediate" and e.get("value") == "yes"
                    for e in result.get("entities") or [])
    return tier, immediate


def model_tiers(agent: Any, sets: dict[str, list[Item]]) -> dict[str, Any]:
    texts = sorted({i["text"] for items in sets.values() for i in items})
    parsed = _parse(agent, texts)
    outcome = {t: layered_outcome(r) for t, r in zip(texts, parsed, strict=True)}
    figures = tier_figures(sets, outcome)
    figures["classifier_only"] = sum(
        1 for r in parsed
        if any(e.get("entity") == "safety_category" and e.get("value") == "unclear"
               for e in r.get("entities") or [])
    )
    return figures


def model_figures(model: Path) -> dict[str, Any]:
    """Parse every sentence with the trained model (needs .venv-rasa)."""
    import asyncio
    import logging
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)
    logging.disable(logging.WARNING)

    alarms, calm = load_set()
    started = time.perf_counter()
    agent = Agent.load(str(model))
    load = time.perf_counter() - started

    async def parse_all(texts: list[str]) -> list[dict[str, Any]]:
        return [await agent.parse_message(t) for t in texts]

    alarm_texts = [a["text"] for a in alarms]
    others = other_intent_examples()
    held_alarms, held_calm = load_holdout()
    held_texts = [a["text"] for a in held_alarms]
    parsed = asyncio.run(parse_all(alarm_texts + calm + others + held_texts + held_calm))
    n1, n2, n3 = len(alarms), len(alarms) + len(calm), len(alarms) + len(calm) + len(others)
    alarm_parsed, calm_parsed, other_parsed = parsed[:n1], parsed[n1:n2], parsed[n2:n3]
    held_alarm_parsed = parsed[n3 : n3 + len(held_texts)]
    held_calm_parsed = parsed[n3 + len(held_texts) :]

    def is_alarm(result: dict[str, Any]) -> bool:
        return (result.get("intent") or {}).get("name") == ALARM_INTENT

    def by_classifier_only(result: dict[str, Any]) -> bool:
        return is_alarm(result) and any(
            e.get("entity") == "safety_category" and e.get("value") == "unclear"
            for e in result.get("entities", [])
        )

    missed = [t for t, r in zip(alarm_texts, alarm_parsed, strict=True) if not is_alarm(r)]
    false_alarms = [t for t, r in zip(calm, calm_parsed, strict=True) if is_alarm(r)]
    return {
        "model": model.name,
        "load_seconds": load,
        "recall": (len(alarms) - len(missed)) / len(alarms),
        "false_alarm_rate": len(false_alarms) / len(calm),
        "missed": missed,
        "false_alarms": false_alarms,
        "classifier_only_alarms": sum(by_classifier_only(r) for r in alarm_parsed),
        "other_intent_examples": len(others),
        "other_intent_false_alarms": [
            t for t, r in zip(others, other_parsed, strict=True) if is_alarm(r)
        ],
        "holdout_recall": sum(map(is_alarm, held_alarm_parsed)) / max(1, len(held_texts)),
        "holdout_false_alarm_rate": sum(map(is_alarm, held_calm_parsed)) / max(1, len(held_calm)),
        "holdout_missed": [
            t for t, r in zip(held_texts, held_alarm_parsed, strict=True) if not is_alarm(r)
        ],
        "holdout_false_alarms": [
            t for t, r in zip(held_calm, held_calm_parsed, strict=True) if is_alarm(r)
        ],
        "holdout_classifier_only_alarms": sum(by_classifier_only(r) for r in held_alarm_parsed),
    }


def _print(title: str, figures: dict[str, Any], verbose: bool) -> None:
    print(f"== {title}")
    for key, value in figures.items():
        if isinstance(value, list):
            print(f"{key}: {len(value)}")
            if verbose:
                for item in value:
                    print(f"    {item}")
        elif isinstance(value, float):
            print(f"{key}: {value:.4f}")
        else:
            print(f"{key}: {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="?", const="auto", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--detector-only", action="store_true")
    parser.add_argument("--set", type=Path, default=None,
                        help="a set with alarm/concern/calm lists (per-tier figures)")
    args = parser.parse_args(argv)
    path: Path | None = None
    if args.model == "auto":
        # bot.model reads the app's settings (pydantic 2): only in .venv, not in .venv-rasa.
        try:
            from bot.model import model_path
        except ImportError:
            print("--model without a path needs .venv (it reads the app's settings); "
                  "in .venv-rasa pass the model: --model models/NAME.tar.gz", file=sys.stderr)
            return 2

        path = model_path()
    elif args.model:
        path = Path(args.model)
    if path is not None and not path.exists():
        print(f"no model at {path}: run `python -m bot train` first", file=sys.stderr)
        return 1
    report: dict[str, Any] = {}
    if args.set is not None:
        sets = load_tiered(args.set)
        report["set"] = str(args.set)
        report["detector_tiers"] = detector_tiers(sets)
        report["rule_tiers"] = detector_tiers(sets, learned=False)
        if path is not None:
            report["layered_tiers"] = model_tiers(_load_agent(path), sets)
    else:
        report["detector"] = detector_figures()
        report["detector_tiers"] = detector_tiers(committed_as_tiered())
        if path is not None:
            report["layered"] = model_figures(path)
    if args.json:
        print(json.dumps(report))
        return 0
    if "detector" in report:
        _print("detector (bot.safety.detector: rules and learned layer)", report["detector"],
               args.verbose)
    if "layered" in report:
        _print("layered (trained model NLU: classifier + detector)", report["layered"],
               args.verbose)
    title = report.get("set", "committed set")
    if "rule_tiers" in report:
        _print(f"rules alone (no learned layer), per tier: {title}", report["rule_tiers"],
               args.verbose)
    _print(f"detector (rules and learned layer), per tier: {title}", report["detector_tiers"],
           args.verbose)
    if "layered_tiers" in report:
        _print(f"layered (as the product runs), per tier: {title}", report["layered_tiers"],
               args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
