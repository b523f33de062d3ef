"""Train the learned layer of safety detection (`bot/safety/model.py`).

    .venv-rasa/bin/python -m scripts.train_safety_model            # train, write the model
    .venv-rasa/bin/python -m scripts.train_safety_model --cv       # leave one writer out:
                                                                   # figures per threshold

Training sets: every set in `SOURCES`, each written by its own author without seeing the
rules. The blind set (`tests/safety/blind_set.yml`) and the committed set's holdout are
never read here. The thresholds are chosen with `--cv` on the writers the model and the
rules were not fitted to (w1-w4; dev and the committed set were used to write the rules,
so their folds flatter the rules), and stored in the model with the fingerprint of the
sets it was trained on.

Runs in `.venv-rasa` (scikit-learn is there); the model it writes is plain JSON that the
app and Rasa read without scikit-learn.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
SAFETY = ROOT / "tests" / "safety"
SOURCES: dict[str, Path] = {
    "dev": SAFETY / "dev_set.yml",
    "committed": SAFETY / "safety_set.yml",
    **{p.stem: p for p in sorted((SAFETY / "writers").glob("w*.yml"))},
    "everyday": SAFETY / "writers" / "everyday.yml",
    "interview": SAFETY / "writers" / "interview_answers.yml",
}
# Calm messages of the kind children type most: weighted up, and held out by quarters in
# each --cv fold.
DAILY = ("everyday", "interview")
# The folds of --cv: the writers nobody fitted rules to. Each fold also holds out a
# quarter of the everyday messages.
WRITERS = ("w1", "w2", "w3", "w4")
# Thresholds (chosen with --cv; see docs/safeguarding.md for the figures).
# demote 1.01: the model never lowers a rule's alarm. (0.7 took hard-calm alerts from
# 6.4% to 5.7% in --cv, but also demoted "ik kreeg een klap van mijn pleegvader".)
# worry, worry_short, worry_unjudged: recall first, by the rule in `summarise` (the
# highest worst-fold alarm recall with at most 2.5% of held-out everyday messages getting
# a concern): 0.1 / 0.6 / 0.35 gave 0.974 mean, 0.968 worst fold, 2.2% everyday and
# 3.3% interview answers (an unclear concern inside a form costs one gentle line now).
THRESHOLDS = {"alarm": 0.9, "worry": 0.1, "demote": 1.01, "immediate": 0.5,
              "short_words": 4, "worry_short": 0.6, "worry_unjudged": 0.35}
# The choice rule of --cv: outside a form an unclear concern still asks "Ben je veilig?",
# so at most this share of held-out everyday messages may get a concern.
MAX_EVERYDAY_CONCERN = 0.025
# Everyday messages and interview answers count three times: what children type most
# must stay calm.
EVERYDAY_WEIGHT = 3.0
# Measured with --cv: C 2 and 8 trace the same curve; class weights "balanced" and a
# minimum document frequency of 1 did not help; the rules' concepts as features gave
# +0.5 points of recall (left out: see bot/safety/model.py).
MIN_DF = 2
C_TIER = 8.0
C_CATEGORY = 8.0
C_IMMEDIATE = 4.0
KEEP_WEIGHT = 0.02

# Each writer's category names -> the detector's (bot.safety.lexicon.CATEGORIES).
CATEGORY_MAP = {
    "immediate_danger": "danger_now", "abuse": "physical_abuse", "grooming": "exploitation",
    "sad": "mood", "anxious": "fear", "bullied": "bullying", "scared_of_person": "fear",
}

Example = dict[str, Any]


def fingerprint(paths: list[Path] | None = None) -> str:
    digest = hashlib.sha256()
    for path in paths or list(SOURCES.values()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    # What turns a text into features (not the rest of model.py: its thresholds logic
    # and docs change without retraining).
    import inspect

    from bot.safety import model

    for part in (model._fold, model.features, model.sentences):
        digest.update(inspect.getsource(part).encode())
    digest.update(repr((model.CHAR_N, model._REPEAT.pattern, model._SENTENCE.pattern,
                        model.MAX_SENTENCES)).encode())
    return digest.hexdigest()[:16]


def load_source(name: str, path: Path) -> list[Example]:
    data = yaml.safe_load(path.read_text()) or {}
    out: list[Example] = []
    for tier in ("alarm", "concern", "calm"):
        for item in data.get(tier) or []:
            if not isinstance(item, dict):
                item = {"text": str(item)}
            category = item.get("category")
            out.append({
                "text": str(item["text"]), "tier": tier, "source": name,
                "category": CATEGORY_MAP.get(category, category) if category else None,
                "immediate": item.get("immediate"),
            })
    return out


def load_all() -> list[Example]:
    examples: list[Example] = []
    seen: set[str] = set()
    for name, path in SOURCES.items():
        for ex in load_source(name, path):
            key = ex["text"].strip().lower()
            if key not in seen:
                seen.add(key)
                examples.append(ex)
    return examples


def _vectorise(texts: list[str], vocab: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    import numpy as np
    from scipy.sparse import csr_matrix

    from bot.safety.model import features

    feats = [features(t) for t in texts]
    if vocab is None:
        counts: dict[str, int] = {}
        for fs in feats:
            for f in fs:
                counts[f] = counts.get(f, 0) + 1
        vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items()
                                                   if c >= MIN_DF))}
    rows, cols, vals = [], [], []
    for r, fs in enumerate(feats):
        scale = 1.0 / np.sqrt(len(fs)) if fs else 0.0
        for f in fs:
            j = vocab.get(f)
            if j is not None:
                rows.append(r)
                cols.append(j)
                vals.append(scale)
    matrix = csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocab)))
    return matrix, vocab


def _fit(examples: list[Example]) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    texts = [e["text"] for e in examples]
    x, vocab = _vectorise(texts)
    inverse = sorted(vocab, key=vocab.__getitem__)
    tiers = LogisticRegression(C=C_TIER, max_iter=3000)
    weights = [EVERYDAY_WEIGHT if e["source"] in DAILY else 1.0 for e in examples]
    tiers.fit(x, [e["tier"] for e in examples], sample_weight=weights)

    labelled = [i for i, e in enumerate(examples) if e["tier"] != "calm" and e["category"]]
    cats = LogisticRegression(C=C_CATEGORY, max_iter=3000)
    cats.fit(x[labelled], [examples[i]["category"] for i in labelled])

    timed = [i for i, e in enumerate(examples)
             if e["tier"] == "alarm" and isinstance(e["immediate"], bool)]
    now = LogisticRegression(C=C_IMMEDIATE, max_iter=3000, class_weight="balanced")
    labels = [examples[i]["immediate"] for i in timed]
    if len(set(labels)) < 2:  # a fold without timing labels: no immediate model
        timed, labels = [0, 0], [True, False]
    now.fit(x[timed], labels)

    def rows(coef: Any) -> dict[str, list[float]]:
        out = {}
        for j, name in enumerate(inverse):
            column = [round(float(v), 3) for v in coef[:, j]]
            if max(abs(v) for v in column) >= KEEP_WEIGHT:
                out[name] = column
        return out

    immediate_index = list(now.classes_).index(True)
    sign = 1.0 if immediate_index == 1 else -1.0
    immediate_weights = {
        name: round(sign * float(now.coef_[0, j]), 3)
        for j, name in enumerate(inverse) if abs(float(now.coef_[0, j])) >= KEEP_WEIGHT
    }
    return {
        "classes": [str(c) for c in tiers.classes_],
        "intercept": [round(float(v), 4) for v in tiers.intercept_],
        "weights": rows(tiers.coef_),
        "categories": [str(c) for c in cats.classes_],
        "category_intercept": [round(float(v), 4) for v in cats.intercept_],
        "category_weights": rows(cats.coef_),
        "immediate_intercept": round(sign * float(now.intercept_[0]), 4),
        "immediate_weights": immediate_weights,
        "thresholds": dict(THRESHOLDS),
    }


def train(path: Path) -> dict[str, Any]:
    examples = load_all()
    data = _fit(examples)
    data["fingerprint"] = fingerprint()
    data["trained_on"] = {name: sum(1 for e in examples if e["source"] == name)
                          for name in SOURCES}
    # mtime 0 keeps the file byte-identical when nothing changed.
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    with open(path, "wb") as out, gzip.GzipFile(fileobj=out, mode="wb", mtime=0,
                                                filename="", compresslevel=9) as gz:
        gz.write(raw)
    return data


_RULES_CACHE: dict[str, Any] = {}


def _rules(texts: list[str]) -> dict[str, Any]:
    """The rule layer's tier, immediate and hints for each text (once per text)."""
    cache_path = os.environ.get("SAFETY_RULES_CACHE")  # a JSON file: faster reruns
    if cache_path and Path(cache_path).exists() and not _RULES_CACHE:
        _RULES_CACHE.update(json.loads(Path(cache_path).read_text()))
    missing = [t for t in texts if t not in _RULES_CACHE]
    if missing:
        from bot.safety.detector import get_detector

        detector = get_detector()
        for text in missing:
            analysis = detector.analyse(text, learned=False)
            tier = "alarm" if analysis.signals else "concern" if analysis.concerns else None
            _RULES_CACHE[text] = (tier, any(s.immediate for s in analysis.signals),
                                  analysis.past,
                                  analysis.signals[0].category if analysis.signals else None,
                                  text[analysis.signals[0].start:analysis.signals[0].end]
                                  if analysis.signals else None, analysis.judged)
        if cache_path:
            Path(cache_path).write_text(json.dumps(_RULES_CACHE))
    return {t: _RULES_CACHE[t] for t in texts}


def cross_validate() -> dict[str, Any]:
    from bot.safety.model import SafetyModel

    examples = load_all()
    rules = _rules([e["text"] for e in examples])
    # The grid around the chosen thresholds (1.01: that part switched off).
    grid = [dict(THRESHOLDS, **{key: value}) for key, values in (
        ("worry", (0.15, 0.2, 0.25, 0.3)), ("demote", (0.6, 0.7, 0.8, 1.01)),
        ("worry_short", (0.5, 0.7, 0.9)), ("immediate", (0.5, 0.7, 1.01)),
        ("alarm", (0.85, 0.9, 0.95))) for value in values] + [
        dict(THRESHOLDS, worry=w, worry_unjudged=u) for w in (0.2, 0.3, 0.5)
        for u in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)] + [
        # The precision-first thresholds shipped before (an unclear concern left the form).
        dict(THRESHOLDS, worry=0.2, worry_short=0.7, worry_unjudged=0.6)] + [
        # Recall first: an unclear concern inside a form now costs one gentle line, not
        # the interview (actions/base.py), so the stricter limits for messages without
        # words of harm and for short answers are searched again.
        dict(THRESHOLDS, worry=w, worry_unjudged=u, worry_short=s)
        for w in (0.05, 0.1, 0.15, 0.2, 0.25)
        for u in (0.2, 0.25, 0.3, 0.325, 0.35, 0.375, 0.4, 0.5, 0.6)
        for s in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)]
    daily = {name: [e for e in examples if e["source"] == name] for name in DAILY}
    results: dict[str, Any] = {}
    for fold_index, held in enumerate(WRITERS):
        held_daily = {name: items[fold_index::len(WRITERS)] for name, items in daily.items()}
        everyday = [e for items in held_daily.values() for e in items]
        out = {e["text"] for e in everyday}
        train_set = [e for e in examples if e["source"] != held and e["text"] not in out]
        test_set = [e for e in examples if e["source"] == held]
        data = _fit(train_set)
        data["fingerprint"] = ""
        model = SafetyModel(data)
        texts = [e["text"] for e in test_set + everyday]
        texts += [rules[t][4] for t in texts if rules[t][4] is not None]
        scores = {t: model.score(t) for t in texts}
        fold: dict[str, Any] = {"rules": _figures(test_set, rules, scores, None)}
        for limits in grid:
            key = _key(limits)
            fold[key] = _figures(test_set, rules, scores, limits)
            for name, items in held_daily.items():
                fold[key][f"{name}_concern"] = _figures(items, rules, scores,
                                                        limits)["calm_concern"]
        results[held] = fold
    return {"folds": results, "summary": summarise(results)}


def _key(limits: dict[str, float]) -> str:
    return "_".join(f"{k[0]}{v}" for k, v in sorted(limits.items()))


# What the rule below chooses; the other thresholds stay as they are (their rows in the
# grid show what changing them would do).
CHOSEN_BY_RULE = ("worry", "worry_short", "worry_unjudged")


def summarise(folds: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per threshold set: the mean over the folds and the worst fold's any-tier
    alarm recall, ordered by the rule that picks the thresholds (docs/safeguarding.md):
    among the rows that differ from `THRESHOLDS` only in `CHOSEN_BY_RULE` ("candidate"),
    the highest worst-fold recall with at most `MAX_EVERYDAY_CONCERN` of the held-out
    everyday messages getting a concern; then fewer interview-answer concerns."""
    keys = list(next(iter(folds.values())))
    fixed = {k: v for k, v in THRESHOLDS.items() if k not in CHOSEN_BY_RULE}
    rows = []
    for key in keys:
        per = [fold[key] for fold in folds.values()]
        row: dict[str, Any] = {"thresholds": key}
        row["candidate"] = key != "rules" and all(
            f"{k[0]}{v}" in key.split("_") for k, v in fixed.items())
        for name in per[0]:
            values = [p[name] for p in per if p[name] == p[name]]  # NaN: no such items
            row[name] = round(sum(values) / len(values), 4) if values else None
        row["alarm_any_worst"] = min(p["alarm_any"] for p in per)
        row["allowed"] = (row.get("everyday_concern") or 0.0) <= MAX_EVERYDAY_CONCERN
        rows.append(row)
    rows.sort(key=lambda r: (not r["candidate"], not r["allowed"], -r["alarm_any_worst"],
                             r.get("interview_concern") or 0.0, -r["alarm_any"]))
    return rows


def _figures(test_set: list[Example], rules: dict[str, Any], scores: dict[str, Any],
             limits: dict[str, float] | None) -> dict[str, float]:
    from bot.safety.model import combine, word_count

    def verdict(text: str) -> tuple[str | None, bool]:
        rule_tier, rule_now, past, category, clause, judged = rules[text]
        if limits is None:
            return rule_tier, rule_now
        return combine(rule_tier, rule_now, scores[text], limits, past, word_count(text),
                       category, scores[clause].calm if clause is not None else None, judged)

    by = {t: [e for e in test_set if e["tier"] == t] for t in ("alarm", "concern", "calm")}
    now = [e for e in by["alarm"] if e.get("immediate") is True]
    later = [e for e in by["alarm"] if e.get("immediate") is False]

    def rate(items: list[Example], hit: Any) -> float:
        return round(sum(1 for e in items if hit(*verdict(e["text"]))) / len(items), 4) \
            if items else float("nan")

    return {
        "alarm_any": rate(by["alarm"], lambda t, n: t is not None),
        "alarm_alarm": rate(by["alarm"], lambda t, n: t == "alarm"),
        "concern_any": rate(by["concern"], lambda t, n: t is not None),
        "calm_alarm": rate(by["calm"], lambda t, n: t == "alarm"),
        "calm_concern": rate(by["calm"], lambda t, n: t == "concern"),
        "now_112": rate(now, lambda t, n: t == "alarm" and n),
        "later_112": rate(later, lambda t, n: t == "alarm" and n),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave one writer out")
    parser.add_argument("--out", type=Path, default=ROOT / "bot" / "safety" / "model.json.gz")
    args = parser.parse_args(argv)
    if args.cv:
        json.dump(cross_validate(), sys.stdout, indent=1)
        print()
        return 0
    data = train(args.out)
    print(f"trained on {data['trained_on']}; {len(data['weights'])} tier features, "
          f"{len(data['category_weights'])} category features -> {args.out} "
          f"({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
