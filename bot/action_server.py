"""Start the Rasa action server with its dependencies wired in (`python -m bot actions`).

It listens on loopback only, and answers only our Rasa: every request but `/health`
must carry the shared secret (MIJNSTEM_ACTION_SECRET) in the header that endpoints.yml
makes Rasa send. A request without it is refused before any tracker is read.
"""

from __future__ import annotations

import hmac
import logging

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import deps
from bot.loop import delivery_api
from bot.process import freeze_start_up
from bot.settings import LOOPBACK, Settings
from bot.storage.db import make_engine, make_session_factory

log = logging.getLogger("mijnstem.actions")

# The header in which Rasa proves to the action server that it is ours (endpoints.yml).
ACTION_SECRET_HEADER = "X-MijnStem-Action-Secret"
OPEN_PATHS = frozenset({"/health"})


def require_secret(app: Sanic, secret: str) -> None:
    """Refuse every request without the shared secret (except the health check)."""
    expected = secret.encode()

    @app.on_request
    async def _check_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = (request.headers.get(ACTION_SECRET_HEADER) or "").encode()
        if hmac.compare_digest(given, expected):
            return None
        log.warning("refused a request to %s without the action secret", request.path)
        return response.json({"error": "forbidden"}, status=403)


def warm_up() -> None:
    """Build the spaCy lexicons the validators use (seconds each) before the first child
    waits for them. Built lazily, they landed on a child's answer, and two worker threads
    could build the same one at once (the profile in ARCHITECTURE.md, Performance).
    The responses of domain/, which Rasa no longer sends with each call, are read too."""
    from actions.copy import load_responses
    from bot.people import find_people
    from bot.topics import wish_topic

    load_responses()
    find_people("mijn oma")
    wish_topic("ik wil op voetbal blijven")


def build_app(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    deps.configure(settings, make_session_factory(engine))
    warm_up()
    app = create_app("actions", cors_origins=None)
    require_secret(app, settings.action_secret)
    # Internal routes for delivering the team's answers to a child (bot/loop), behind
    # the same secret.
    app.blueprint(delivery_api.blueprint())
    return app


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    app = build_app(settings)
    freeze_start_up()
    app.run(host=LOOPBACK, port=settings.action_port, workers=1, access_log=False)
    return 0
