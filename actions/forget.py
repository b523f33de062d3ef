""""Vergeet mij": after the child confirms, everything they said is erased.

The erasure itself is `bot.privacy.erase.forget_chat`: the child's answers and
summaries in the app database and the stored tracker events of every chat of the child.
This conversation is still in Rasa's memory while this action runs; the tracker store
sees the tombstone the erasure left and writes back only what happens after it
(bot/nlu/tracker_store.py). The slots are reset, so nothing of the old conversation
lingers in what Rasa remembers either.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset
from rasa_sdk.executor import CollectingDispatcher

from actions import deps
from actions.common import DB_ERRORS
from bot.privacy.erase import forget_chat

CONFIRM_QUESTION = "utter_ask_forget_me"


def confirmed(tracker: Tracker) -> bool:
    """True when the bot's last action before this message was the confirmation question."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            seen_user = True
        elif kind == "action" and seen_user and event.get("name") != "action_listen":
            return event.get("name") == CONFIRM_QUESTION
    return False


class ActionForgetMe(Action):
    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not confirmed(tracker):
            # Never erase without the child's yes to the question right before.
            dispatcher.utter_message(response="utter_forget_kept")
            return []
        dependencies = deps.get()
        try:
            # The erasure owns its transactions (bot.privacy.erase); off the event loop.
            await asyncio.to_thread(
                forget_chat, dependencies.settings, dependencies.sessions, tracker.sender_id
            )
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_forget_failed")
            return []
        dispatcher.utter_message(response="utter_forgotten")
        return [AllSlotsReset()]
