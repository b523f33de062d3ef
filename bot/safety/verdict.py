"""The safety verdict as it travels in a message's metadata, from our REST channel
(`bot.nlu.channel`, which runs the detector once) to the NLU component
(`bot.nlu.safety`), so no message is scanned twice. Standard library only.
"""

from __future__ import annotations

from typing import Any

# The metadata key; the channel always sets it (a client cannot send its own).
VERDICT_KEY = "mijnstem_safety"
TIERS = ("alarm", "concern")


def to_metadata(verdict: Any, *, spans: bool = True) -> dict[str, Any]:
    """A `bot.safety.engine.Verdict` as plain JSON. Without `spans` (the text was cut
    to another window) the signal's position is left out."""
    signal = verdict.signal
    return {
        "tier": verdict.tier,
        "category": verdict.category,
        "immediate": bool(verdict.immediate),
        "judged": bool(verdict.judged),
        "start": signal.start if signal is not None and spans else None,
        "end": signal.end if signal is not None and spans else None,
    }


def from_metadata(metadata: Any) -> dict[str, Any] | None:
    """The verdict in `metadata`, or None when there is none (then scan)."""
    if not isinstance(metadata, dict):
        return None
    raw = metadata.get(VERDICT_KEY)
    if not isinstance(raw, dict):
        return None
    tier = raw.get("tier")
    if tier is not None and tier not in TIERS:
        return None
    category = raw.get("category")
    return {
        "tier": tier,
        "category": category if isinstance(category, str) and category else None,
        "immediate": raw.get("immediate") is True,
        "judged": raw.get("judged") is True,
        "start": raw.get("start") if isinstance(raw.get("start"), int) else None,
        "end": raw.get("end") if isinstance(raw.get("end"), int) else None,
    }
