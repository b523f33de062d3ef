"""Tell a caseworker, in their own Telegram chat, that a child shared a summary.

Only that a summary is waiting and for which child number: the child's words stay in
Mijn Stem and never travel through Telegram. Sent in the background, so the child's
reply never waits for Telegram. When Telegram answers 429 or 5xx, or cannot be
reached, the message is tried again with growing pauses (about a minute in all);
only then is the failure logged (never raised).
"""

from __future__ import annotations

import asyncio
import logging

from bot.notify import telegram, templates
from bot.settings import Settings

log = logging.getLogger("mijnstem.notify")

_background: set[asyncio.Task[None]] = set()
# Pauses between attempts (seconds): back-off for a Telegram that is overloaded or down.
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


def notify_summary_shared(
    settings: Settings, *, chat_id: str | None, child_id: int, caseworker_email: str
) -> asyncio.Task[None] | None:
    """Start sending the notification; returns the task (None when there is nothing to do)."""
    if not settings.telegram_bot_token or not chat_id:
        return None
    try:
        text = templates.render(
            "notify/summary_shared.txt", child_id=child_id, caseworker_email=caseworker_email
        )
        task = asyncio.get_running_loop().create_task(_send(settings, chat_id, text))
    except Exception:  # never let a notification break the child's conversation
        log.exception("summary notification not prepared")
        return None
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def _send(settings: Settings, chat_id: str, text: str) -> None:
    for delay in (*RETRY_DELAYS, None):
        try:
            await telegram.send_message(settings, chat_id, text)
            return
        except telegram.TelegramError as exc:
            if delay is None:
                log.warning("summary notification not sent: %s", exc)
                return
            log.info("summary notification not sent yet (%s); again in %.0f s", exc, delay)
            await asyncio.sleep(delay)
        except Exception:  # a notification must never take the action server down
            log.exception("summary notification failed")
            return
