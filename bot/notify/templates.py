"""Plain-text Jinja templates for notifications (bot/templates/notify/) and the CLI's
Dutch output (bot/templates/cli/): the Dutch wording lives in the template files, not
in Python."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "bot" / "templates"


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=StrictUndefined,
        autoescape=False,  # plain text, sent without a parse mode
    )


def render(template: str, **values: Any) -> str:
    """Render e.g. "notify/summary_shared.txt"."""
    return environment().get_template(template).render(**values).strip()
