"""`python -m bot web`: serve the web app with uvicorn on settings.web_host:settings.web_port."""

from __future__ import annotations

import argparse

import uvicorn

from bot.process import freeze_start_up
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import make_engine
from bot.web.app import create_app


def serve(settings: Settings, args: argparse.Namespace | None = None) -> int:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        log_level="warning",
        # No websockets here; and rasa-sdk pins a websockets too old for uvicorn's default.
        ws="none",
        access_log=False,  # URLs are logged nowhere: an invite link carries a code
        # Default proxy handling: X-Forwarded-For is trusted from loopback only (a reverse
        # proxy on this host), so the per-address start limit sees real addresses.
        server_header=False,
        date_header=False,
    )
    freeze_start_up()
    uvicorn.Server(config).run()
    return 0
