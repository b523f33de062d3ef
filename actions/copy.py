"""Pieces of Dutch copy that actions put together (summary lines), read from the
domain's responses so that all Dutch stays in the domain."""

from __future__ import annotations

import functools
from typing import Any

from bot.domain import load_domain


class _Strict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"response template needs {{{key}}}")


@functools.cache
def load_responses() -> dict[str, Any]:
    """The responses of domain/: Rasa sends the action server the domain without them
    (bot/nlu/speedups.py)."""
    return dict(load_domain()["responses"])


def render(domain: dict[str, Any], name: str, age_group: str | None = None, **params: Any) -> str:
    """The text of response `name` for this age band (or its default), filled in."""
    variants = (domain.get("responses") or load_responses())[name]
    default = None
    for variant in variants:
        conditions = variant.get("condition") or []
        if not conditions:
            default = default or variant
            continue
        if all(c.get("name") == "age_group" and c.get("value") == age_group for c in conditions):
            return str(variant["text"]).format_map(_Strict(params))
    if default is None:
        raise KeyError(f"{name} has no default variant")
    return str(default["text"]).format_map(_Strict(params))
