"""Average words per bot message for each age band, computed from the domain.

For each band, every response a child of that band can get is counted once, in the
variant that band sees (its own, or the default when there is none). Not counted:
the pieces of summary lines (utter_label_*), which are never a message of their own.
Placeholders ({items}, {current_person}) count as one word, emoji as none.

Run: .venv/bin/python -m scripts.copy_report [--max-young 12] [--json FILE]
         [--before REV]
Exits non-zero when the 6-9 average is above --max-young.

`--before REV` also computes the figures at an earlier commit (its `domain.yml`, or its
`domain/` folder, read with `git show`), for the before/after table in
docs/interview.md. Its typical interview is counted from that domain's forms: every
required slot is asked once per form, the wish form's once per wish, the person_*
slots once per person, and "help finding someone" and per-item sharing not at all
(the typical child has someone and shares everything at once). That is how the
interview worked before issue 11 for every band.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bot.age import AGE_GROUPS
from bot.domain import load_domain
from bot.settings import PROJECT_ROOT

_WORD = re.compile(r"\{\w+\}|[\w'’-]*[^\W_][\w'’-]*", re.UNICODE)
SKIP_PREFIXES = ("utter_label_",)


def words(text: str) -> int:
    return len(_WORD.findall(text))


def variant_for(variants: list[dict[str, Any]], band: str | None) -> dict[str, Any] | None:
    default = None
    for variant in variants:
        conditions = variant.get("condition") or []
        if not conditions and default is None:
            default = variant
        elif band is not None and any(
            c.get("name") == "age_group" and c.get("value") == band for c in conditions
        ):
            return variant
    return default


def _has_own_variant(variants: list[dict[str, Any]], band: str | None) -> bool:
    """Written for the band: its own variant, or a default every band shares."""
    return band is None or any(
        c.get("name") == "age_group" and c.get("value") == band
        for v in variants for c in v.get("condition") or []
    ) or any((v.get("metadata") or {}).get("all_ages") for v in variants
             if not v.get("condition"))


def report(domain: dict[str, Any], own_only: bool = False) -> dict[str, dict[str, Any]]:
    """Per band; with own_only, only responses written for that band (not the neutral
    ones said before the age is known)."""
    all_responses = {name: variants for name, variants in domain["responses"].items()
                     if not name.startswith(SKIP_PREFIXES)}
    out: dict[str, dict[str, Any]] = {}
    for band in (*AGE_GROUPS, None):
        responses = {n: v for n, v in all_responses.items()
                     if not own_only or _has_own_variant(v, band)}
        counts = {}
        for name, variants in responses.items():
            variant = variant_for(variants, band)
            if variant is not None:
                counts[name] = words(str(variant.get("text") or ""))
        values = list(counts.values())
        longest = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
        out[band or "default"] = {
            "messages": len(values),
            "mean_words": round(statistics.mean(values), 1),
            "median_words": statistics.median(values),
            "over_12_words": sum(v > 12 for v in values),
            "longest": longest,
            "with_buttons": sum(
                bool((variant_for(v, band) or {}).get("buttons")) for v in responses.values()
            ),
        }
    return out


# A typical interview (issue 11): two wishes; four people of whom one is a brother or
# sister living elsewhere; a trusted person who is one of them (suggested and confirmed);
# every open question answered; everything shared at once.
TYPICAL = {"wishes": 2, "people": 4, "siblings": 1}


def questions_for_person(band: str | None, *, sibling: bool) -> int:
    """The questions actions/people.py asks about one person (start_person)."""
    from actions.people import start_person

    entry = [0, "x", "broer" if sibling else "oma"]
    asked = [k for k, v in start_person(entry, band).items() if k != "current_person" and v is None]
    return len(asked)


def typical_questions(band: str | None) -> dict[str, int]:
    wishes = TYPICAL["wishes"] * 3  # the wish, its topic, "nog een?"
    others = TYPICAL["people"] - TYPICAL["siblings"]
    per_person = (others * questions_for_person(band, sibling=False)
                  + TYPICAL["siblings"] * questions_for_person(band, sibling=True))
    people = 2 + per_person + 1 + 1  # names, "klopt dat?", anyone else, "Wie mis je?"
    # someone? "is dat oma?", does oma know, may oma be involved
    out = {"wishes": wishes, "people": people, "trusted": 4, "say": 1, "continuity": 2,
           "heard": 1, "share": 1}
    out["total"] = sum(out.values())
    return out


def domain_at(rev: str) -> dict[str, Any]:
    """The domain as it was at `rev` (one domain.yml, or the domain/ folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        listed = subprocess.run(
            ["git", "ls-tree", "--name-only", rev, "domain/"], cwd=PROJECT_ROOT,
            capture_output=True, text=True, check=True).stdout.split()
        files = [f for f in listed if f.endswith(".yml")] or ["domain.yml"]
        for name in files:
            content = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=PROJECT_ROOT,
                                     capture_output=True, text=True, check=True).stdout
            (folder / Path(name).name).write_text(content, encoding="utf-8")
        return load_domain(folder)


# Asked only when the typical child needs them (see the module docstring).
NOT_ASKED_TYPICALLY = {"trusted_help", "share_item"}


def typical_questions_from_forms(domain: dict[str, Any]) -> dict[str, int]:
    """The typical interview counted from the forms of a domain before issue 11."""
    forms = domain["forms"]

    def asked(form: str) -> list[str]:
        return [s for s in forms.get(form, {}).get("required_slots", [])
                if s not in NOT_ASKED_TYPICALLY]

    people_slots = asked("people_form")
    per_person = [s for s in people_slots if s.startswith("person_")]
    out = {
        "wishes": TYPICAL["wishes"] * len(asked("wish_form")),
        "people": len(people_slots) - len(per_person) + TYPICAL["people"] * len(per_person),
        "trusted": len(asked("trusted_form")), "say": len(asked("say_form")),
        "continuity": len(asked("continuity_form")), "heard": len(asked("heard_form")),
        "share": len(asked("share_form")),
    }
    out["total"] = sum(out.values())
    return out


def before_after(rev: str, domain: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per band: questions in a typical interview and mean words per bot message, at
    `rev` and now."""
    old = domain_at(rev)
    old_words, new_words = report(old), report(domain)
    old_questions = typical_questions_from_forms(old)
    return {
        band: {
            "questions_before": old_questions["total"],
            "questions_after": typical_questions(band)["total"],
            "mean_words_before": old_words[band]["mean_words"],
            "mean_words_after": new_words[band]["mean_words"],
        }
        for band in AGE_GROUPS
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", default=str(PROJECT_ROOT / "domain"))
    parser.add_argument("--max-young", type=float, default=12.0)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--before", metavar="REV",
                        help="also compare with the domain at this git revision")
    args = parser.parse_args(argv)
    domain = load_domain(Path(args.domain))
    figures: dict[str, Any] = {"all": report(domain), "own_variant": report(domain, own_only=True),
                               "questions": {b: typical_questions(b) for b in AGE_GROUPS}}
    for kind, title in (("all", "every response a child of the band can get"),
                        ("own_variant", "only responses with a variant for the band")):
        print(f"-- {title}")
        print(f"{'band':8} {'messages':>8} {'mean':>6} {'median':>6} {'>12':>4} {'buttons':>7}")
        for band, f in figures[kind].items():
            print(f"{band:8} {f['messages']:8} {f['mean_words']:6} {f['median_words']:6} "
                  f"{f['over_12_words']:4} {f['with_buttons']:7}   longest: "
                  + ", ".join(f"{n} ({w})" for n, w in f["longest"]))
    print(f"-- questions in a typical interview ({TYPICAL['wishes']} wishes, "
          f"{TYPICAL['people']} people of whom {TYPICAL['siblings']} a sibling living elsewhere)")
    for band, q in figures["questions"].items():
        print(f"{band:8} {q['total']:3}  " + ", ".join(f"{k} {v}" for k, v in q.items()
                                                     if k != "total"))
    if args.before:
        figures["before_after"] = before_after(args.before, domain)
        print(f"-- before ({args.before}) and after: questions in a typical interview, "
              "mean words per bot message")
        print(f"{'band':8} {'questions':>14} {'mean words':>14}")
        for band, f in figures["before_after"].items():
            print(f"{band:8} {f['questions_before']:6} -> {f['questions_after']:3} "
                  f"{f['mean_words_before']:7} -> {f['mean_words_after']:4}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if figures["all"]["6-9"]["mean_words"] <= args.max_young else 1


if __name__ == "__main__":
    raise SystemExit(main())
