"""`python -m bot telegram`: the Telegram bridge, in the shape of python-telegram-bot's
own examples: `build_application` only wires handlers, `run` starts polling (default)
or a webhook server (when TELEGRAM_WEBHOOK_URL is set).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from urllib.parse import urlparse

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.gateway import RasaGateway
from bot.notify.telegram import api_root
from bot.process import freeze_start_up
from bot.pseudonym import keyed_hash
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory
from bot.telegram.bridge import Bridge
from bot.telegram.ordering import PerChatUpdateProcessor
from bot.telegram.texts import DomainResponses

log = logging.getLogger("mijnstem.telegram")

# Only what the bridge handles: no group or channel updates, no member updates.
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
# Button payloads kept by PTB's callback data cache (arbitrary_callback_data), newest.
CALLBACK_DATA_CACHE = 5000
# Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def build_application(
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    rasa: RasaGateway | None = None,
    responses: DomainResponses | None = None,
) -> Application:  # type: ignore[type-arg]
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    bridge = Bridge(
        settings,
        sessions=sessions,
        rasa=rasa or RasaGateway.from_settings(settings),
        responses=responses or DomainResponses.load(),
    )

    async def load_waiting(app: Application) -> None:  # type: ignore[type-arg]
        await bridge.load_waiting()
        await bridge.set_menu(app.bot)

    async def close_rasa(_: Application) -> None:  # type: ignore[type-arg]
        await bridge.rasa.close()

    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .rate_limiter(AIORateLimiter(max_retries=settings.telegram_rate_limit_retries))
        .concurrent_updates(PerChatUpdateProcessor())
        .arbitrary_callback_data(CALLBACK_DATA_CACHE)
        .post_init(load_waiting)
        .post_shutdown(close_rasa)
    )
    if settings.telegram_base_url:
        root = api_root(settings)
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    application = builder.build()
    application.bot_data["bridge"] = bridge  # for tests and introspection; no chat state

    private = filters.ChatType.PRIVATE
    new = private & filters.UpdateType.MESSAGE
    application.add_handler(TypeHandler(Update, bridge.drop_repeated), group=-1)
    application.add_handler(CommandHandler("start", bridge.on_start, filters=new))
    application.add_handler(
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, bridge.on_edited)
    )
    # Text includes /stop, /help, /privacy and any other command: Rasa answers them.
    application.add_handler(MessageHandler(new & filters.TEXT, bridge.on_text))
    application.add_handler(
        MessageHandler(new & ~filters.TEXT & ~filters.StatusUpdate.ALL, bridge.on_media)
    )
    application.add_handler(CallbackQueryHandler(bridge.on_button))
    application.add_error_handler(bridge.on_error)

    job_queue = application.job_queue
    if job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot[job-queue] is needed")
    job_queue.run_repeating(
        bridge.retry_pending, interval=settings.telegram_retry_seconds, first=1.0,
        name="hand kept messages to Rasa",
    )
    job_queue.run_repeating(
        bridge.deliver_followups, interval=settings.followup_delivery_seconds, first=2.0,
        name="deliver the team's answers",
    )
    job_queue.run_repeating(
        bridge.invite_checkins, interval=settings.followup_delivery_seconds, first=3.0,
        name="invite children to a check-in on its day",
    )
    return application


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the pseudonym secret, so that a
    webhook never runs without Telegram's secret_token check."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return keyed_hash(settings.pseudonym_secret, "telegram-webhook-secret")


def run(settings: Settings, args: argparse.Namespace | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # httpx logs every request URL, and Bot API URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not settings.telegram_bot_token:
        print("error: set TELEGRAM_BOT_TOKEN (from @BotFather) to start the Telegram bridge",
              file=sys.stderr)
        return 2
    secret = webhook_secret(settings)
    if settings.telegram_webhook_url and not _SECRET_RE.match(secret):
        print("error: TELEGRAM_WEBHOOK_SECRET may only hold A-Z, a-z, 0-9, _ and - "
              "(at most 256)", file=sys.stderr)
        return 2

    engine = make_engine(settings)
    migrate.upgrade(engine)
    application = build_application(settings, sessions=make_session_factory(engine))
    freeze_start_up()
    try:
        if settings.telegram_webhook_url:
            path = urlparse(settings.telegram_webhook_url).path.strip("/")
            log.info("webhook mode: listening on 127.0.0.1:%d/%s",
                     settings.telegram_webhook_port, path)
            application.run_webhook(
                listen="127.0.0.1",  # behind a reverse proxy; never exposed directly
                port=settings.telegram_webhook_port,
                url_path=path,
                webhook_url=settings.telegram_webhook_url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=-1,
            )
        else:
            log.info("polling mode")
            application.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1)
    finally:
        engine.dispose()
    return 0
