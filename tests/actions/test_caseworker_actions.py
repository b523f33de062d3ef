"""The child's half of the answer loop (actions/caseworker.py) and the summary's
follow-ups: trackers from the JSON fixture, the real domain, a real SQLite database."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.caseworker import (
    ActionAfterCaseworkerMessage,
    ActionStartCaseworkerMessage,
    ActionStoreReaction,
    ActionThanks,
    ValidateCaseworkerMessageForm,
)
from actions.summary import ActionShareSummary
from bot import accounts
from bot.domain import load_domain
from bot.storage import interview, loop, repo
from bot.storage.models import ChildMessage, FollowUp, Notice
from tests.actions.conftest import load_tracker, responses, slot_events, validate_slot

SENDER = "rest-unit-1"  # the fixture's sender


async def run(action, tracker, domain=None) -> tuple[list[str], dict[str, Any], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or load_domain())
    return responses(dispatcher), slot_events(events), dispatcher.messages


async def validate(text: str, intent: str = "inform", **slots: Any):
    dispatcher = CollectingDispatcher()
    tracker = load_tracker(text=text, intent=intent,
                           active_loop={"name": "caseworker_message_form"},
                           slots={"requested_slot": "message_to_caseworker", **slots})
    result = await validate_slot(ValidateCaseworkerMessageForm(), "message_to_caseworker",
                                 text, dispatcher, tracker, load_domain())
    return result, responses(dispatcher)


def _delivered_reply(sessions, child_id: int) -> int:
    """A wish, shared, answered by the caseworker and delivered to the chat."""
    with sessions.begin() as session:
        child = repo.get_child(session=session, child_id=child_id)
        repo.add_wish(session=session, child_id=child_id, session_id=None, text="een hond")
        refs = [i.ref for i in interview.current_items(session=session, child_id=child_id)]
        interview.decide(session=session, child_id=child_id, refs=refs, shared=True)
        summary = interview.send_shared(
            session=session, child=child,
            items=interview.items_to_send(session=session, child_id=child_id), body="x")
        (follow_up,) = loop.open_follow_ups_for_summary(session=session, child=child,
                                                        summary=summary)
        reply = loop.add_reply(session=session, follow_up=follow_up, by=child.caseworker,
                               status="gedaan", text="Je krijgt een hond!")
        loop.mark_delivered(session=session, replies=[reply])
        return reply.id


async def test_start_message_names_the_caseworker(configured, linked_child):
    linked_child()
    said, slots, _ = await run(ActionStartCaseworkerMessage(),
                               load_tracker(intent="write_caseworker", text="bericht"))
    assert said == []
    assert slots == {"message_to_caseworker": None, "message_kind": "message",
                     "has_caseworker": True, "caseworker_name": "Sanne"}


async def test_unlinked_chat_sends_nothing_and_promises_nothing(configured):
    _, slots, _ = await run(ActionStartCaseworkerMessage(),
                            load_tracker(intent="write_caseworker", text="bericht"))
    assert slots["message_to_caseworker"] is False and slots["has_caseworker"] is False
    assert "caseworker_name" not in slots  # keeps its fallback words
    said, _, _ = await run(ActionAfterCaseworkerMessage(), load_tracker(
        slots={"message_to_caseworker": False, "has_caseworker": False, "linked": False}))
    assert said == ["utter_link_needed_for_message"]


async def test_message_is_stored_with_a_follow_up_and_a_notice(configured, linked_child):
    child_id = linked_child()
    result, said = await validate("Mag ik dit weekend naar oma?", message_kind="message")
    assert result == {"message_to_caseworker": "sent"} and said == []
    with configured.begin() as session:
        message = session.scalars(select(ChildMessage)).one()
        assert (message.child_id, message.kind, message.text, message.channel) == (
            child_id, "message", "Mag ik dit weekend naar oma?", "rest")
        assert session.scalars(select(FollowUp.message_id)).one() == message.id
        assert session.scalars(select(Notice.kind)).all() == ["new_message"]
    said, slots, messages = await run(ActionAfterCaseworkerMessage(), load_tracker(
        slots={"message_to_caseworker": "sent", "caseworker_name": "Sanne",
               "has_caseworker": True}))
    assert said == ["utter_message_to_caseworker_sent"]
    assert messages[0]["caseworker_name"] == "Sanne"
    assert slots == {"message_to_caseworker": None, "message_kind": None}


async def test_skip_or_cancel_sends_nothing(configured, linked_child):
    linked_child()
    assert (await validate("laat maar"))[0] == {"message_to_caseworker": False}
    assert (await validate("nee", intent="deny"))[0] == {"message_to_caseworker": False}
    with configured.begin() as session:
        assert session.scalars(select(ChildMessage)).all() == []
    said, _, _ = await run(ActionAfterCaseworkerMessage(), load_tracker(
        slots={"message_to_caseworker": False, "has_caseworker": True, "linked": True}))
    assert said == ["utter_message_to_caseworker_cancelled"]


async def test_message_without_caseworker_goes_to_the_team(configured, settings):
    from datetime import timedelta

    from bot import invites
    from bot.pseudonym import sender_hash

    with configured.begin() as session:
        lead = accounts.create(session=session, email="lead@example.org", name="Mila",
                               role="teamlead", team="Noord")
        child = repo.create_child(session=session, display_name="X", age=12,
                                  age_group="10-13", caseworker=None)
        child.team = "Noord"
        code = invites.new_code()
        repo.create_invite(session=session, child=child, ttl=timedelta(days=1),
                           code_hash=invites.code_hash(settings.pseudonym_secret, code))
        repo.redeem_invite(session=session, channel="rest",
                           code_hash=invites.code_hash(settings.pseudonym_secret, code),
                           sender_hash=sender_hash(settings.pseudonym_secret, SENDER))
        lead_id = lead.id
    _, slots, _ = await run(ActionStartCaseworkerMessage(),
                            load_tracker(intent="write_caseworker", text="bericht"))
    assert slots["has_caseworker"] is False and "caseworker_name" not in slots
    result, _ = await validate("Wie is mijn nieuwe jeugdzorgwerker?")
    assert result == {"message_to_caseworker": "sent_team"}
    said, _, _ = await run(ActionAfterCaseworkerMessage(), load_tracker(
        slots={"message_to_caseworker": "sent_team", "caseworker_name": None}))
    assert said == ["utter_message_to_caseworker_sent_team"]
    with configured.begin() as session:
        notice = session.scalars(select(Notice)).one()
        assert (notice.kind, notice.caseworker_id) == ("new_message", lead_id)


async def test_reactions_to_the_last_delivered_answer(configured, linked_child):
    child_id = linked_child()
    # Nothing delivered yet: a reaction button means nothing.
    said, _, _ = await run(ActionStoreReaction(), load_tracker(intent="react_disagree"))
    assert said == ["utter_not_understood"]
    reply_id = _delivered_reply(configured, child_id)
    said, _, messages = await run(ActionStoreReaction(), load_tracker(intent="react_disagree"))
    assert said == ["utter_reaction_disagree"] and messages[0]["caseworker_name"] == "Sanne"
    said, _, _ = await run(ActionThanks(), load_tracker(intent="thanks", text="dankjewel"))
    assert said == ["utter_reaction_thanks"]
    # Thanked once: a second "dankjewel" is just "graag gedaan".
    said, _, _ = await run(ActionThanks(), load_tracker(intent="thanks", text="dank je"))
    assert said == ["utter_you_are_welcome"]
    result, _ = await validate("Welke hond dan?", message_kind="reaction")
    assert result == {"message_to_caseworker": "sent"}
    with configured.begin() as session:
        found = [(m.kind, m.reaction, m.reply_id, m.text)
                 for m in loop.messages_for_child(session=session, child_id=child_id)]
    assert found == [("reaction", "disagree", reply_id, None),
                     ("reaction", "thanks", reply_id, None),
                     ("reaction", "own_words", reply_id, "Welke hond dan?")]


async def test_thanks_without_an_answer_is_just_thanks(configured, linked_child):
    linked_child()
    said, _, _ = await run(ActionThanks(), load_tracker(intent="thanks", text="dankjewel"))
    assert said == ["utter_you_are_welcome"]


async def test_sharing_opens_follow_ups_and_names_the_team_without_caseworker(
    configured, settings, domain
):
    from datetime import timedelta

    from bot import invites
    from bot.pseudonym import sender_hash

    with configured.begin() as session:
        child = repo.create_child(session=session, display_name="X", age=12,
                                  age_group="10-13", caseworker=None)
        code = invites.new_code()
        repo.create_invite(session=session, child=child, ttl=timedelta(days=1),
                           code_hash=invites.code_hash(settings.pseudonym_secret, code))
        repo.redeem_invite(session=session, channel="rest",
                           code_hash=invites.code_hash(settings.pseudonym_secret, code),
                           sender_hash=sender_hash(settings.pseudonym_secret, SENDER))
        repo.add_wish(session=session, child_id=child.id, session_id=None, text="judo")
        refs = [i.ref for i in interview.current_items(session=session, child_id=child.id)]
        interview.decide(session=session, child_id=child.id, refs=refs, shared=True)
        child_id = child.id
    said, _, _ = await run(ActionShareSummary(), load_tracker(slots={"share_refs": refs}),
                           domain)
    assert said == ["utter_summary_shared_team"]
    with configured.begin() as session:
        (follow_up,) = loop.follow_ups_for_child(session=session, child_id=child_id)
        assert follow_up.kind == "wish" and follow_up.status == "nieuw"
