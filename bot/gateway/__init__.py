"""The one gateway to Rasa, shared by the Telegram bridge, the web chat and `make chat`:
one client (bot.gateway.client), one message and button type (bot.gateway.messages).

The input policy lives in one place, Rasa's REST channel (bot/nlu/channel.py): it
cleans the text, cuts what is too long and takes the per-chat rate limit, once per
message. Callers pass the child's text on as it is.
"""

from bot.gateway.client import Health, RasaGateway, RasaRejected, RasaUnavailable
from bot.gateway.messages import BotMessage, Button, parse_reply

__all__ = ["BotMessage", "Button", "Health", "RasaGateway", "RasaRejected", "RasaUnavailable",
           "parse_reply"]
