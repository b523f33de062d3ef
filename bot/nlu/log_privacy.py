"""Keep children's words out of Rasa's logs.

Rasa logs message texts in a few places even at INFO: warnings about messages that start
with "/" quote the whole message ("/start K7MP-Q2XR" included), and its structured
log events carry fields such as `text` and `user_text`. `install()` runs when our
components start inside Rasa (the tracker store, the REST channel); it is idempotent.
"""

from __future__ import annotations

import warnings
from typing import Any

import structlog

# Field names under which Rasa's structlog events carry what a user or the bot said
# (the list of rasa.utils.log_utils._anonymizer, plus a few more).
REDACTED_FIELDS = frozenset({
    "text", "response_text", "user_text", "slot_values", "parse_data_text",
    "parse_data_entities", "prediction_events", "tracker_latest_message",
    "prefilled_slots", "message", "response", "slot_candidates", "rasa_event",
    "rasa_events", "tracker_states", "current_states", "old_states", "successes",
    "current_entity", "next_entity", "states", "entity", "token_text", "user_message",
    "json_message", "events", "tracker", "metadata",
})
REDACTED = "[redacted]"


def redact(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in REDACTED_FIELDS & event_dict.keys():
        event_dict[key] = REDACTED
    return event_dict


class _State:
    installed = False


def install() -> None:
    if _State.installed:
        return
    _State.installed = True
    # rasa.shared.core.training_data.story_reader.yaml_story_reader quotes the message.
    warnings.filterwarnings("ignore", message=r"Failed to parse arguments in line")
    # Rasa caches its loggers on first use (cache_logger_on_first_use), and cached
    # loggers hold the very list of processors in the configuration: change that list
    # in place so loggers created before this call redact too.
    processors = structlog.get_config()["processors"]
    if isinstance(processors, list):
        if redact not in processors:
            processors.insert(0, redact)
    else:
        structlog.configure(processors=[redact, *processors])
