"""Telegram chats as Rasa senders. The client is the shared gateway (bot.gateway)."""

from __future__ import annotations

from bot.gateway import RasaGateway, RasaRejected, RasaUnavailable
from bot.pseudonym import keyed_hash

__all__ = [
    "RasaGateway", "RasaRejected", "RasaUnavailable", "SENDER_PREFIX", "chat_hash",
    "sender_for_chat",
]

SENDER_PREFIX = "tg-"


def sender_for_chat(secret: str, chat_id: int, generation: int = 0) -> str:
    """Rasa's sender id for a Telegram chat: stable, and not the chat id in clear.

    `generation` counts the sessions of the chat (bot.storage.repo.plan_link): another
    child's code in a linked chat starts generation n+1, so a new sender id and a new
    conversation. The actions recognise the channel by the "tg-" prefix
    (actions.common.channel_of).
    """
    suffix = f":{generation}" if generation else ""
    return SENDER_PREFIX + keyed_hash(secret, f"telegram-chat:{chat_id}{suffix}")


def chat_hash(secret: str, chat_id: int) -> str:
    """The keyed hash under which a chat's generation is stored."""
    return keyed_hash(secret, f"telegram-chat-key:{chat_id}")
