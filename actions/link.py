"""Linking a chat to a child with an invite code (`/start CODE`).

A chat linked to one child is never moved to another (repo.redeem_invite answers
OTHER_CHILD): Telegram and the web chat send another child's code in a fresh session
(repo.plan_link), so this only happens on a channel that cannot, and is refused there.
Telegram is offered from `telegram_min_age` (16): a younger child is refused kindly and
offered the web chat.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Turn, TurnAction
from actions.common import DB_ERRORS, all_interview_slots, channel_of
from actions.names import name_slots, name_values
from bot import invites
from bot.privacy import link_limits
from bot.storage import repo

_ERROR_RESPONSES = {
    repo.LinkStatus.UNKNOWN: "utter_invite_unknown",
    repo.LinkStatus.EXPIRED: "utter_invite_expired",
    repo.LinkStatus.USED: "utter_invite_used",
}
# Valid codes that cannot be used in this chat: not counted as guesses.
_REFUSED_VALID = {
    repo.LinkStatus.OTHER_CHILD: "utter_invite_other_child",
    repo.LinkStatus.TOO_YOUNG: "utter_link_telegram_too_young",
}
_REFUSAL_RESPONSES = {
    link_limits.Refusal.CHAT: "utter_invite_too_many_tries",
    link_limits.Refusal.OVERALL: "utter_invite_busy",
}


def link_subjects(tracker: Tracker) -> list[str]:
    """Extra counting keys the channel passed along (Telegram user, web IP address)."""
    metadata = tracker.latest_message.get("metadata") or {}
    subject = metadata.get(link_limits.METADATA_KEY) if isinstance(metadata, dict) else None
    return [subject] if isinstance(subject, str) and 0 < len(subject) <= 64 else []


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
        channel = channel_of(tracker.sender_id)
        subjects = link_subjects(tracker)
        try:
            with turn.db() as session:
                refused = link_limits.refusal(
                    session=session,
                    sender_hash=turn.sender_hash,
                    limits=link_limits.LinkLimits.from_settings(settings),
                    subjects=subjects,
                )
                if refused is not None:
                    dispatcher.utter_message(response=_REFUSAL_RESPONSES[refused])
                    return [SlotSet("link_result", "refused")]
                result = repo.redeem_invite(
                    session=session,
                    code_hash=invites.code_hash(settings.pseudonym_secret, code),
                    sender_hash=turn.sender_hash,
                    channel=channel,
                    min_age=settings.telegram_min_age if channel == "tg" else None,
                )
                if result.status in _ERROR_RESPONSES:
                    link_limits.record_failure(session=session, sender_hash=turn.sender_hash,
                                               subjects=subjects)
                child = result.conversation.child if result.conversation else None
                age_group = child.current_age_group if child else None
                names = name_values(child, domain, age_group) if child else {}
        except DB_ERRORS:
            dispatcher.utter_message(response="utter_link_unavailable")
            return [SlotSet("link_result", "unavailable")]

        if result.status in _ERROR_RESPONSES:
            dispatcher.utter_message(response=_ERROR_RESPONSES[result.status])
            return [SlotSet("link_result", result.status.value)]
        if result.status in _REFUSED_VALID:
            dispatcher.utter_message(
                response=_REFUSED_VALID[result.status],
                web_chat_url=f"{settings.public_web_url.rstrip('/')}/chat?code={code}",
            )
            return [SlotSet("link_result", result.status.value)]
        events = [SlotSet("linked", True), SlotSet("link_result", result.status.value),
                  *name_slots(names)]
        if result.status is repo.LinkStatus.LINKED:
            # A new link starts the interview afresh (e.g. a code re-issued to a child).
            events += [
                SlotSet("age_group", age_group),
                SlotSet("steps_done", []),
                SlotSet("step_started", None),
                *(SlotSet(slot, None) for slot in all_interview_slots()),
            ]
        return events
