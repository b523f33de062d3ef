"""Linking a chat to a child with an invite code (`/start CODE`)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Turn, TurnAction
from actions.common import DB_ERRORS, all_interview_slots, channel_of
from bot import invites
from bot.privacy import link_limits
from bot.storage import repo

_ERROR_RESPONSES = {
    repo.LinkStatus.UNKNOWN: "utter_invite_unknown",
    repo.LinkStatus.EXPIRED: "utter_invite_expired",
    repo.LinkStatus.USED: "utter_invite_used",
}
_REFUSAL_RESPONSES = {
    link_limits.Refusal.CHAT: "utter_invite_too_many_tries",
    link_limits.Refusal.OVERALL: "utter_invite_busy",
}


class ActionLinkChat(TurnAction):
    def name(self) -> str:
        return "action_link_chat"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
        turn: Turn,
    ) -> list[dict[str, Any]]:
        code = next(tracker.get_latest_entity_values("invite_code"), None)
        if not code:
            dispatcher.utter_message(response="utter_invite_missing")
            return [SlotSet("link_result", "missing")]
        settings = turn.deps.settings
        try:
            with turn.db() as session:
                refused = link_limits.refusal(
                    session=session,
                    sender_hash=turn.sender_hash,
                    limits=link_limits.LinkLimits.from_settings(settings),
                )
                if refused is not None:
                    dispatcher.utter_message(response=_REFUSAL_RESPONSES[refused])
                    return [SlotSet("link_result", "refused")]
                result = repo.redeem_invite(
                    session=session,
                    code_hash=invites.code_hash(settings.pseudonym_secret, code),
                    sender_hash=turn.sender_hash,
                    channel=channel_of(tracker.sender_id),
                )
                if result.status in _ERROR_RESPONSES:
                    link_limits.record_failure(session=session, sender_hash=turn.sender_hash)
                child = result.conversation.child if result.conversation else None
                age_group = child.age_group if child else None
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_link_unavailable")
            return [SlotSet("link_result", "unavailable")]

        if result.status in _ERROR_RESPONSES:
            dispatcher.utter_message(response=_ERROR_RESPONSES[result.status])
            return [SlotSet("link_result", result.status.value)]
        events = [SlotSet("linked", True), SlotSet("link_result", result.status.value)]
        if result.status is repo.LinkStatus.LINKED:
            # A new link starts the interview afresh (e.g. a code re-issued to a child).
            events += [
                SlotSet("age_group", age_group),
                SlotSet("steps_done", []),
                SlotSet("step_started", None),
                *(SlotSet(slot, None) for slot in all_interview_slots()),
            ]
        return events
