"""Start the Rasa action server with its dependencies wired in (`python -m bot actions`)."""

from __future__ import annotations

import logging

from rasa_sdk.endpoint import create_app

from actions import deps
from bot.loop import delivery_api
from bot.settings import Settings
from bot.storage.db import make_engine, make_session_factory


def build_app(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    deps.configure(settings, make_session_factory(engine))
    app = create_app("actions", cors_origins=None)
    # Internal routes for delivering the team's answers to a child (bot/loop).
    app.blueprint(delivery_api.blueprint())
    return app


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    app = build_app(settings)
    app.run(host=settings.host, port=settings.action_port, workers=1, access_log=False)
    return 0
