"""Generate data/rules/form_interruptions.yml: what happens when a child interrupts any
form (stop, a question, a new code...). One table here instead of hand-written rules per
form, so a new form gets every interruption, and tests check the file is up to date.

Run: .venv/bin/python -m scripts.gen_form_rules
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.domain import load_domain  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "data" / "rules" / "form_interruptions.yml"

# intent -> (mode, actions). "resume": answer, then the form asks its question again.
# "leave": the form is deactivated first; the child can come back to it later.
INTERRUPTIONS: dict[str, tuple[str, list[str]]] = {
    "ask_privacy": ("resume", ["utter_privacy"]),
    "bot_challenge": ("resume", ["utter_bot_challenge"]),
    "help": ("resume", ["utter_help"]),
    "stop": ("leave", ["utter_stopped"]),
    "link_chat": ("leave", ["action_link_chat", "action_continue"]),
    # The interview (actions/flow.py): a greeting after a break says where the child
    # left off and asks the question again; "doei" leaves; a topic can be redone.
    "greet": ("leave", ["action_continue"]),
    "goodbye": ("leave", ["utter_goodbye"]),
    "redo_topic": ("leave", ["action_redo_topic", "action_continue"]),
    # Sent by the Telegram bridge (bot/telegram) for media and edited messages.
    "media_unsupported": ("resume", ["utter_media_not_supported"]),
    "message_edited": ("resume", ["utter_edit_not_read"]),
    # "Vergeet mij": leave the form and ask to confirm (data/rules/privacy.yml).
    "forget_me": ("leave", ["utter_ask_forget_me"]),
    # A safety alarm (actions/safety.py) at any point: help at once, then the safety
    # check (data/rules/safety.yml starts safety_form after action_safety_alarm).
    "safety_alarm": ("leave", ["action_safety_alarm"]),
    # A concern (sad, lonely, scared...): a gentle answer, then "hoe gaat het nu?".
    "safety_concern": ("leave", ["action_safety_concern"]),
    # Not here on purpose: `safety_unclear` (a concern no rule named, on an answer). The
    # form keeps it as its answer and adds one gentle line (actions/base.py).
    # The answer loop (actions/caseworker.py): a reaction to an answer is stored and
    # the form asks its question again; writing to the caseworker opens its own form,
    # after which action_continue brings the child back to where they were.
    "react_thanks": ("resume", ["action_store_reaction"]),
    "react_disagree": ("resume", ["action_store_reaction"]),
    "react_own_words": ("leave", ["action_start_caseworker_message", "caseworker_message_form"]),
    "write_caseworker": ("leave", ["action_start_caseworker_message", "caseworker_message_form"]),
    # "Hoe voel ik me?" and the check-in (actions/feeling.py, actions/checkin.py): their
    # own forms, after which action_continue brings the child back to where they were.
    "tell_feeling": ("leave", ["action_start_feeling", "feeling_form"]),
    "start_checkin": ("leave", ["action_start_checkin", "checkin_form"]),
}

# Forms that read these intents as answers instead of being interrupted by them: the
# safety check does not drop the subject after "stop", "laat maar" or "doei".
ANSWERED_BY_FORM: dict[str, set[str]] = {
    "safety_form": {"stop", "goodbye", "greet", "redo_topic", "write_caseworker",
                    "react_thanks", "react_disagree", "react_own_words", "tell_feeling",
                    "start_checkin"},
    # "Wat wil je tegen je jeugdzorgwerker zeggen?" is answered, not interrupted, by
    # "ik wil tegen Sanne zeggen dat...".
    "heard_form": {"write_caseworker"},
}

# Actions after which the next action is predicted without waiting for the child.
NO_WAIT_AFTER = {"action_continue", "action_safety_alarm", "action_safety_concern"}


def forms() -> list[str]:
    domain = load_domain(ROOT / "domain")
    return sorted(domain.get("forms", {}))


def build() -> str:
    rules = []
    for form in forms():
        for intent, (mode, actions) in INTERRUPTIONS.items():
            if intent in ANSWERED_BY_FORM.get(form, set()):
                continue
            steps: list[dict[str, object]] = [{"intent": intent}]
            if mode == "leave":
                steps += [{"action": "action_deactivate_loop"}, {"active_loop": None}]
            steps += [{"action": a} for a in actions]
            if mode == "resume":
                steps += [{"action": form}, {"active_loop": form}]
            elif actions[-1] in forms():
                steps += [{"active_loop": actions[-1]}]
            rule: dict[str, object] = {
                "rule": f"{intent} during {form}",
                "condition": [{"active_loop": form}],
                "steps": steps,
            }
            if actions[-1] in NO_WAIT_AFTER and mode == "leave":
                rule["wait_for_user_input"] = False
            rules.append(rule)
    header = "# GENERATED by scripts/gen_form_rules.py from the domain forms: do not edit.\n"
    body = yaml.safe_dump(
        {"version": "3.1", "rules": rules}, sort_keys=False, allow_unicode=True, width=100
    )
    return header + body


def main() -> int:
    content = build()
    if "--check" in sys.argv:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != content:
            print(
                f"{OUTPUT.relative_to(ROOT)} is out of date: run python -m scripts.gen_form_rules"
            )
            return 1
        return 0
    OUTPUT.write_text(content)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
