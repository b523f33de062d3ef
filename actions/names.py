"""The child's and the caseworker's first names in the copy (issue 11): Rasa fills
{child_name} and {caseworker_name} from slots; when a name is not known, a fallback
phrase from the domain ("je jeugdzorgwerker") is used, so a template never shows a gap."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions.copy import render
from bot.storage.models import Child


def first_name(name: str | None) -> str | None:
    words = (name or "").split()
    return words[0] if words else None


def name_values(
    child: Child | None, domain: dict[str, Any], age_group: str | None
) -> dict[str, str]:
    """The values for {child_name} and {caseworker_name}; the child must be loaded with
    its caseworker (actions.common.find_conversation does that)."""
    child_name = first_name(child.display_name if child else None)
    caseworker = child.caseworker if child is not None else None
    caseworker_name = first_name(caseworker.name if caseworker else None)
    return {
        "child_name": child_name or render(domain, "utter_label_child_fallback", age_group),
        "caseworker_name": caseworker_name
        or render(domain, "utter_label_caseworker_fallback", age_group),
    }


def has_caseworker(child: Child | None) -> bool:
    return child is not None and child.caseworker is not None


def name_slots(values: dict[str, str]) -> list[dict[str, Any]]:
    return [SlotSet(name, value) for name, value in values.items()]
