"""Intent accuracy of the NLU: by cross-validation on data/nlu, and on a held-out file
that training never sees (tests/nlu/heldout.yml), for the contract's core intents and
overall.

Run: .venv/bin/python -m scripts.nlu_report [--folds 5] [--config config.yml]
     [--skip-cv] [--skip-heldout] [--json FILE]

Cross-validation trains the NLU pipeline once per fold (about a minute in all with the
TF-free pipeline on 2 cores); the held-out score uses the model of `bot.model`, trained
when missing. Pass another --config to compare pipelines: the held-out score then
trains an NLU-only model with that config.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.model import RASA_CLI, ensure_model, rasa_env
from bot.settings import PROJECT_ROOT

CORE_INTENTS = ("greet", "goodbye", "affirm", "deny", "dont_know", "stop", "ask_privacy",
                "bot_challenge", "thanks")
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
TARGET = 0.92


def _rasa(*args: str) -> None:
    result = subprocess.run([*RASA_CLI, *args], cwd=PROJECT_ROOT, env=rasa_env(),
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"rasa {args[0]} {args[1]} failed")


def scores(report: dict[str, Any]) -> dict[str, Any]:
    """Accuracy overall and on the core intents (recall weighted by support) from a Rasa
    intent_report.json, plus the core intents' own recall."""
    per_intent = {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v
                  and k not in {"macro avg", "weighted avg", "micro avg"}}
    core = {k: per_intent[k] for k in CORE_INTENTS if k in per_intent}
    support = sum(v["support"] for v in core.values())
    correct = sum(v["recall"] * v["support"] for v in core.values())
    return {
        "accuracy": round(float(report["accuracy"]), 3),
        "core_accuracy": round(correct / support, 3) if support else None,
        "examples": int(sum(v["support"] for v in per_intent.values())),
        "core_recall": {k: round(v["recall"], 3) for k, v in core.items()},
        "weak_intents": {k: round(v["f1-score"], 3) for k, v in per_intent.items()
                         if v["f1-score"] < TARGET},
        "f1": {k: round(v["f1-score"], 3) for k, v in sorted(per_intent.items())},
    }


def cross_validation(config: str, folds: int, out: Path) -> dict[str, Any]:
    _rasa("test", "nlu", "--nlu", "data/nlu", "--config", config, "--cross-validation",
          "--folds", str(folds), "--out", str(out))
    return scores(json.loads((out / "intent_report.json").read_text()))


def heldout(config: str, out: Path) -> dict[str, Any]:
    if Path(config).resolve() == (PROJECT_ROOT / "config.yml").resolve():
        model = ensure_model()
    else:
        _rasa("train", "nlu", "--config", config, "--nlu", "data/nlu", "--out", str(out),
              "--fixed-model-name", "nlu-compare")
        model = out / "nlu-compare.tar.gz"
    _rasa("test", "nlu", "--nlu", str(HELDOUT), "--model", str(model), "--out", str(out))
    return scores(json.loads((out / "intent_report.json").read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--skip-heldout", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    figures: dict[str, Any] = {"config": args.config, "target_core": TARGET}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_cv:
            started = time.monotonic()
            figures["cross_validation"] = cross_validation(args.config, args.folds,
                                                           Path(tmp) / "cv")
            figures["cross_validation"]["folds"] = args.folds
            figures["cross_validation"]["seconds"] = round(time.monotonic() - started)
        if not args.skip_heldout:
            started = time.monotonic()
            figures["heldout"] = heldout(args.config, Path(tmp) / "heldout")
            figures["heldout"]["seconds"] = round(time.monotonic() - started)

    for part in ("cross_validation", "heldout"):
        if part in figures:
            f = figures[part]
            print(f"{part:17} accuracy {f['accuracy']:.3f}  core intents "
                  f"{f['core_accuracy']:.3f}  ({f['examples']} examples, {f['seconds']} s)")
            print(f"{'':17} core recall: " + ", ".join(
                f"{k} {v:.2f}" for k, v in f["core_recall"].items()))
            if f["weak_intents"]:
                print(f"{'':17} intents below {TARGET} f1: " + ", ".join(
                    f"{k} {v:.2f}" for k, v in f["weak_intents"].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    core = [figures[p]["core_accuracy"] for p in ("cross_validation", "heldout") if p in figures]
    return 0 if all(c is not None and c >= TARGET for c in core) else 1


if __name__ == "__main__":
    raise SystemExit(main())
