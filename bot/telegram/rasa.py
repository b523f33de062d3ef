"""Telegram chats as Rasa senders. The client is the shared gateway (bot.gateway)."""

from __future__ import annotations

from bot.gateway import RasaGateway, RasaRejected, RasaUnavailable
from bot.pseudonym import keyed_hash

__all__ = ["RasaGateway", "RasaRejected", "RasaUnavailable", "SENDER_PREFIX", "sender_for_chat"]

SENDER_PREFIX = "tg-"


def sender_for_chat(secret: str, chat_id: int) -> str:
    """Rasa's sender id for a Telegram chat: stable, and not the chat id in clear.

    The actions recognise the channel by the "tg-" prefix (actions.common.channel_of).
    """
    return SENDER_PREFIX + keyed_hash(secret, f"telegram-chat:{chat_id}")
