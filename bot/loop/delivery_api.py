"""Two internal routes on the action server for delivering answers to a child
(bot/loop/internal.py has the contract):

- POST PENDING_PATH {"sender"} -> {"deliveries": [...]}: what this chat has not seen.
  The REST channel asks on every message, so this is one indexed query.
- POST ACK_PATH {"sender", "reply_ids"} -> {"acknowledged": [...]}: shown now.

Rasa has no access to the app database (it runs in `.venv-rasa`); this keeps the
database on this side and the rendering (domain responses per age band) on Rasa's.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions import deps
from bot.loop import internal
from bot.pseudonym import sender_hash
from bot.storage import loop

log = logging.getLogger("mijnstem.deliveries")


async def _answer(key: str, work: Callable[..., Any], what: str, **kwargs: Any) -> HTTPResponse:
    """`{key: work(session=..., **kwargs)}`, run in one transaction off the event loop;
    503 when the database cannot be asked (logged as `what`, without the details)."""

    def run() -> Any:
        with deps.get().sessions.begin() as session:
            return work(session=session, **kwargs)

    try:
        result = await asyncio.to_thread(run)
    except SQLAlchemyError as exc:
        log.error("%s: %s", what, type(exc).__name__)
        return response.json({"error": "database"}, status=503)
    return response.json({key: result})


def _authorised(request: Request) -> bool:
    """The action server already refuses requests without the secret
    (bot/action_server.py); checked here again so these routes never depend on it."""
    expected = deps.get().settings.action_secret
    given = request.headers.get(internal.HEADER, "")
    return hmac.compare_digest(given.encode(), expected.encode())


def _sender(request: Request) -> str | None:
    body = request.json if isinstance(request.json, dict) else {}
    sender = body.get("sender")
    return sender if isinstance(sender, str) and 0 < len(sender) <= 128 else None


def _pending_json(*, session: Session, sender_hash: str) -> list[dict[str, Any]]:
    return [d.as_json() for d in loop.pending_deliveries(session=session,
                                                         sender_hash=sender_hash)]


def blueprint() -> Blueprint:
    bp = Blueprint("mijnstem_deliveries")

    @bp.post(internal.PENDING_PATH)
    async def pending(request: Request) -> HTTPResponse:
        if not _authorised(request):
            return response.json({"error": "forbidden"}, status=403)
        sender = _sender(request)
        if sender is None:
            return response.json({"error": "invalid_sender"}, status=400)
        hashed = sender_hash(deps.get().settings.pseudonym_secret, sender)
        return await _answer("deliveries", _pending_json, "pending deliveries cannot be read",
                             sender_hash=hashed)

    @bp.post(internal.ACK_PATH)
    async def ack(request: Request) -> HTTPResponse:
        if not _authorised(request):
            return response.json({"error": "forbidden"}, status=403)
        sender = _sender(request)
        body = request.json if isinstance(request.json, dict) else {}
        ids = body.get("reply_ids")
        if sender is None or not isinstance(ids, list) or not all(
            isinstance(i, int) for i in ids
        ):
            return response.json({"error": "invalid_request"}, status=400)
        hashed = sender_hash(deps.get().settings.pseudonym_secret, sender)
        return await _answer("acknowledged", loop.acknowledge,
                             "deliveries cannot be acknowledged", sender_hash=hashed,
                             reply_ids=ids)

    return bp
