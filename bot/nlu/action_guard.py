"""When the action server cannot be reached, a turn is not half-done.

Rasa 3.6 logs a failed custom action and carries on without its events: inside a form
the child's answer would be taken without being validated or stored, and the bot would
go on or fall silent. Instead, an unreachable action server (connection refused, or a
load balancer answering 502/503/504) aborts the whole turn: the exception passes
Rasa's `except Exception` because it is a `BaseException`, so the tracker is not saved
(Rasa saves it only at the end of a turn), and our REST channel answers `utter_busy`
with HTTP 503. The child's message is kept by the caller (Telegram bridge) or sent again
(web chat), and once the action server is back it lands on the same question.

Rasa offers no hook for this, so `RemoteAction.run` is wrapped once per process.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

logger = logging.getLogger(__name__)

# What a load balancer in front of the action servers answers when none is up.
_UNAVAILABLE_STATUSES = {502, 503, 504}


class ActionServerUnavailable(BaseException):  # noqa: N818 - reads as a state
    """The action server cannot run actions now; the turn must not be saved."""


def _unreachable(exc: BaseException) -> bool:
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import ClientResponseError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (aiohttp.ClientConnectionError, asyncio.TimeoutError, TimeoutError)):
            return True
        if isinstance(current, ClientResponseError) and current.status in _UNAVAILABLE_STATUSES:
            return True
        if isinstance(current, aiohttp.ClientResponseError) and (
            current.status in _UNAVAILABLE_STATUSES
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def install() -> None:
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction.run, "_mijnstem_guard", False):
        return
    original = RemoteAction.run

    @functools.wraps(original)
    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except Exception as exc:
            if _unreachable(exc):
                logger.error("action server unreachable while running %s: the turn is "
                             "not saved, the child is asked to wait", self.name())
                raise ActionServerUnavailable(self.name()) from exc
            raise

    run._mijnstem_guard = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]
