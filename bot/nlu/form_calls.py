"""A form asks the action server to validate only when there is something to validate.

Rasa 3.6 calls a form's validation action (`validate_<form>`) at every form turn with
the slot values the message filled, the candidates. It also calls it with no candidate
at all: twice whenever a form starts (once for the slots filled before, once for what
the starting message filled, nearly always neither), and on a turn whose message filled
nothing (before the form rejects it). Such a call exists for forms whose validation
action decides the slots dynamically (`required_slots`, `extract_<slot>`,
`next_requested_slot` in rasa-sdk). Ours do not: they only validate the candidates
(`actions/base.py`, `FormValidation`), so without candidates the answer is always no
events and no message. That was 16 of the 42 action calls of a whole interview.

`tests/actions/test_form_validation_calls.py` holds every validation action of the
project to that: none overrides those rasa-sdk hooks, and each one, called without
candidates, answers nothing. A form that needs them must be added to `DYNAMIC_FORMS`.
"""

from __future__ import annotations

from typing import Any

# Forms whose validation action must be called even without candidates.
DYNAMIC_FORMS: frozenset[str] = frozenset()

_ORIGINAL: list[Any] = []


async def validate_slots(self: Any, slot_candidates: dict[str, Any], *args: Any,
                         **kwargs: Any) -> Any:
    """Rasa's `FormAction.validate_slots`, which returns the validation action's events:
    none, without calling it, when there is no candidate to validate."""
    if not slot_candidates and self.name() not in DYNAMIC_FORMS:
        return []
    return await _ORIGINAL[0](self, slot_candidates, *args, **kwargs)


def install() -> None:
    from rasa.core.actions.forms import FormAction

    if _ORIGINAL:
        return
    _ORIGINAL.append(FormAction.validate_slots)
    FormAction.validate_slots = validate_slots  # type: ignore[method-assign]
