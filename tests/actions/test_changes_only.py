"""Plain actions leave out the SlotSets that change nothing (`actions.base.changes_only`),
and the slots come out exactly as they would with every event."""

from __future__ import annotations

import random
from typing import Any

from rasa_sdk.events import AllSlotsReset, BotUttered, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import changes_only, in_turn
from actions.flow import ActionContinue
from actions.link import ActionLinkChat
from bot import invites
from tests.actions.conftest import load_tracker, new_invite, slot_events


def _apply(slots: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots after `events`, as Rasa applies them (a reset empties every slot)."""
    slots = dict(slots)
    for event in events:
        if event["event"] == "slot":
            slots[event["name"]] = event["value"]
        elif event["event"] == "reset_slots":
            slots = dict.fromkeys(slots)
    return slots


def test_only_changing_slot_events_are_kept_in_order():
    tracker = load_tracker(slots={"linked": True, "age_group": "10-13", "next_step": "wishes"})
    events = [
        SlotSet("linked", True),  # unchanged: left out
        BotUttered("hoi"),
        SlotSet("age_group", "14-18"),  # changed
        SlotSet("age_group", "10-13"),  # changed back: kept, the one before set it
        SlotSet("next_step", "people"),
        SlotSet("next_step", "people"),  # the same as the event before it
    ]
    assert changes_only(tracker, events) == [
        BotUttered("hoi"), SlotSet("age_group", "14-18"), SlotSet("age_group", "10-13"),
        SlotSet("next_step", "people"),
    ]


def test_everything_after_another_kind_of_event_is_kept():
    tracker = load_tracker(slots={"linked": True, "next_step": "wishes"})
    events = [SlotSet("linked", True), AllSlotsReset(), SlotSet("linked", True),
              FollowupAction("action_listen"), SlotSet("next_step", "wishes")]
    assert changes_only(tracker, events) == events[1:]


def test_a_slot_the_domain_does_not_have_is_passed_on():
    tracker = load_tracker()
    assert changes_only(tracker, [SlotSet("no_such_slot", None)]) == [
        SlotSet("no_such_slot", None)]


def test_the_slots_come_out_the_same_for_any_events():
    """Random runs of slot, bot and reset events over a few slots: applying the kept
    events gives the same slots as applying them all."""
    rng = random.Random(7)
    names = ["linked", "age_group", "next_step", "steps_done"]
    values = [None, True, False, "10-13", "wishes", [], ["wishes"], 0, ""]
    for _ in range(2000):
        start = {name: rng.choice(values) for name in names}
        tracker = load_tracker(slots=start)
        events: list[dict[str, Any]] = []
        for _ in range(rng.randint(0, 8)):
            kind = rng.random()
            if kind < 0.8:
                events.append(SlotSet(rng.choice(names), rng.choice(values)))
            elif kind < 0.95:
                events.append(BotUttered("x"))
            else:
                events.append(AllSlotsReset())
        kept = changes_only(tracker, events)
        base = {**tracker.slots}
        assert _apply(base, kept) == _apply(base, events), (start, events, kept)
        assert all(event in events for event in kept)


async def test_linking_a_new_chat_sends_only_what_changes(configured, settings, domain):
    """A fresh conversation has every interview slot empty: the link sets the few it
    fills, and the slots end up as they would with all of them."""
    empty = dict.fromkeys(domain["slots"])

    def new_chat(sender: str) -> Any:
        code = new_invite(configured, settings, age=15)
        return load_tracker(
            sender_id=sender, intent="link_chat", text=f"/start {code}", active_loop={},
            entities=[{"entity": "invite_code", "value": invites.normalise(code)}],
            slots={**empty, "steps_done": []},
        )

    action = ActionLinkChat()
    first = new_chat("rest-changes-1")
    every = await in_turn(
        first, CollectingDispatcher(),
        lambda turn: action.act(CollectingDispatcher(), first, domain, turn), [])
    second = new_chat("rest-changes-2")
    sent = await action.run(CollectingDispatcher(), second, domain)
    assert slot_events(every)["link_result"] == slot_events(sent)["link_result"] == "linked"
    assert len(slot_events(every)) > 30  # every interview slot emptied
    assert set(slot_events(sent)) == {"linked", "link_result", "age_group", "child_name",
                                      "caseworker_name"}
    assert _apply(second.slots, sent) == _apply(first.slots, every)


async def test_continue_does_not_repeat_the_link_state(configured, linked_child, domain):
    linked_child(age=12)
    tracker = load_tracker(intent="deny", text="nee", active_loop={},
                           latest_action_name="wish_form",
                           slots={"linked": True, "age_group": "10-13", "link_result": None,
                                  "steps_done": ["wishes"], "step_started": "wishes"})
    events = await ActionContinue().run(CollectingDispatcher(), tracker, domain)
    slots = slot_events(events)
    assert "linked" not in slots and "age_group" not in slots and "link_result" not in slots
    assert slots["next_step"] == "people" and slots["step_started"] == "people"
