"""The full interview (issue 3): people, trusted person, open answers, wish topics, the
per-item sharing choice, resuming, redoing a topic and a returning child. Trackers from
the JSON fixture, the real the domain, a real migrated SQLite database."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import summary
from actions.answers import (
    ValidateContinuityForm,
    ValidateHeardForm,
    ValidateSayForm,
    ValidateUpdateForm,
)
from actions.flow import ActionContinue, ActionRedoTopic
from actions.people import ValidatePeopleForm
from actions.summary import (
    ActionShareSummary,
    ActionShowSummary,
    ValidateShareForm,
    typed_numbers,
)
from actions.trusted import ValidateTrustedForm
from actions.wishes import ValidateWishForm
from bot.domain import load_domain
from bot.storage import interview, repo
from bot.storage.models import Answer, Person, SharedSummary, TrustedPerson, Wish
from tests.actions.conftest import load_tracker, responses, slot_events, validate_slot

ALL_STEPS = ["wishes", "people", "trusted", "say", "continuity", "heard", "summary"]


def tracker(slot: str, text: str, intent: str = "inform", form: str = "people_form",
            choice: str | None = None, **slots: Any):
    entities = [{"entity": "choice", "value": choice}] if choice else []
    return load_tracker(text=text, intent=intent, entities=entities, active_loop={"name": form},
                        slots={"requested_slot": slot, **slots})


async def validate(validator, slot: str, text: str, **kwargs: Any) -> tuple[dict, list[str]]:
    """Run one slot validation with `text` as the child's answer to that slot's question."""
    dispatcher = CollectingDispatcher()
    result = await validate_slot(
        validator, slot, text, dispatcher, tracker(slot, text, **kwargs), load_domain()
    )
    return result, responses(dispatcher)


async def run(action, t, domain) -> tuple[list[str], dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, domain)
    return responses(dispatcher), slot_events(events), dispatcher


def rows(sessions, model) -> list[Any]:
    with sessions.begin() as session:
        return list(session.scalars(select(model).order_by(model.id)))


# --- important people -------------------------------------------------------------------

async def test_people_are_picked_out_confirmed_and_asked_about_one_by_one(
    configured, linked_child
):
    child_id = linked_child(age=8)
    form = ValidatePeopleForm()
    found, said = await validate(form, "people_text", "mn oma en me broertje daan")
    assert said == []
    assert found["people_list"] == "• oma\n• broertje Daan"
    assert [p["role"] for p in found["people_found"]] == ["oma", "broer"]

    confirmed, said = await validate(form, "people_confirm", "ja", intent="affirm",
                                     people_found=found["people_found"])
    assert said == ["utter_people_details_intro"]
    assert confirmed["current_person"] == "oma" and confirmed["person_ring"] is None
    oma, daan = rows(configured, Person)
    assert (oma.label, oma.role, oma.name) == ("oma", "oma", None)
    assert (daan.label, daan.role, daan.name) == ("broertje Daan", "broer", "Daan")
    assert oma.child_id == daan.child_id == child_id
    queue = confirmed["people_queue"]

    # A button for oma, typed words for the others; then the next person.
    assert (await validate(form, "person_ring", '/choose{"choice":"1"}', intent="choose",
                           choice="1", people_queue=queue))[0] == {"person_ring": "1"}
    assert (await validate(form, "person_frequency", "elke week", intent="choose",
                           people_queue=queue))[0] == {"person_frequency": "weekly"}
    moved, _ = await validate(form, "person_contact", "vaker", intent="choose",
                              people_queue=queue)
    assert moved["current_person"] == "broertje Daan" and moved["person_ring"] is None
    assert moved["people_queue"] == queue[1:]
    # Typed numbers pick the n-th option; a skip leaves a detail empty.
    assert (await validate(form, "person_ring", "3", intent="choose",
                           people_queue=queue[1:]))[0] == {"person_ring": "3"}
    assert (await validate(form, "person_frequency", "weet ik niet", intent="dont_know",
                           people_queue=queue[1:]))[0] == {"person_frequency": "skipped"}
    last, _ = await validate(form, "person_contact", "minder", intent="choose",
                             people_queue=queue[1:])
    assert last == {"person_contact": "less", "people_queue": [], "current_person": None}

    oma, daan = rows(configured, Person)
    assert (oma.ring, oma.frequency, oma.contact_wish) == (1, "weekly", "more")
    assert (daan.ring, daan.frequency, daan.contact_wish) == (3, None, "less")

    unclear, said = await validate(form, "person_ring", "pizza", people_queue=queue)
    assert unclear == {"person_ring": None} and said == ["utter_choose_please"]


async def test_people_can_be_corrected_skipped_or_added(configured, linked_child):
    linked_child()
    form = ValidatePeopleForm()
    none, said = await validate(form, "people_text", "dat weet ik eigenlijk wel")
    assert none == {"people_text": None} and said == ["utter_people_none_found"]
    retry, said = await validate(form, "people_confirm", "nee", intent="deny")
    assert retry["people_text"] is None and said == ["utter_people_retry"]
    retyped, _ = await validate(form, "people_confirm", "nee, oma en juf sanne",
                                intent="inform")
    assert retyped["people_list"] == "• oma\n• juf Sanne" and retyped["people_confirm"] is None
    skipped, said = await validate(form, "people_text", "overslaan", intent="skip")
    assert set(skipped.values()) == {False} and "more_people" in skipped
    more, _ = await validate(form, "more_people", "ja", intent="affirm")
    assert more["people_text"] is None and more["more_people"] is None
    enough, _ = await validate(form, "more_people", "nee", intent="deny")
    assert enough == {"more_people": False}
    assert rows(configured, Person) == []


# --- trusted person ----------------------------------------------------------------------

async def test_trusted_person_named_and_knows(configured, linked_child):
    linked_child(age=15)
    form = ValidateTrustedForm()
    kw = {"form": "trusted_form"}
    # Nobody named yet: nothing to suggest.
    assert (await validate(form, "trusted_has", "ja", intent="affirm", **kw))[0] == {
        "trusted_has": "yes", "trusted_suggest": False}
    who, _ = await validate(form, "trusted_who", "mijn tante ria", **kw)
    assert who == {"trusted_who": "tante Ria", "trusted_who_text": "mijn tante ria"}
    knows, said = await validate(form, "trusted_knows", "nee", intent="deny", trusted_has="yes",
                                 trusted_who_text="mijn tante ria", **kw)
    assert knows == {"trusted_knows": "no"} and said == []
    involve, said = await validate(form, "trusted_involve", "nee", intent="deny",
                                   trusted_has="yes", trusted_knows="no",
                                   trusted_who_text="mijn tante ria", **kw)
    assert involve == {"trusted_involve": "no", "trusted_help": False}
    assert said == ["utter_trusted_thanks"]
    (row,) = rows(configured, TrustedPerson)
    assert (row.has_someone, row.who, row.person_knows, row.wants_help, row.wants_involved) == (
        True, "mijn tante ria", False, None, False)


async def test_trusted_person_suggested_from_the_people_named(configured, linked_child, domain):
    child_id = linked_child(age=9)
    with configured.begin() as session:
        for label, role, ring in (("juf Sanne", "juf", 2), ("oma", "oma", 1),
                                  ("hond Max", "huisdier", 1)):
            person = interview.add_person(session=session, child_id=child_id, session_id=None,
                                          label=label, name=None, role=role)
            interview.update_person(session=session, child_id=child_id, person_id=person.id,
                                    ring=ring)
    form = ValidateTrustedForm()
    kw = {"form": "trusted_form"}
    has, _ = await validate(form, "trusted_has", "ja", intent="affirm", **kw)
    # "Is dat misschien oma?": the closest person named, not the dog.
    assert has == {"trusted_has": "yes", "trusted_suggest": None, "trusted_suggestion": "oma"}
    yes, _ = await validate(form, "trusted_suggest", "ja", intent="affirm",
                            trusted_suggestion="oma", **kw)
    assert yes == {"trusted_suggest": "yes", "trusted_who": "oma", "trusted_who_text": "oma"}
    other, _ = await validate(form, "trusted_suggest", "nee, mijn juf", intent="deny",
                              trusted_suggestion="oma", **kw)
    assert other["trusted_who"] == "juf"
    no, _ = await validate(form, "trusted_suggest", "nee", intent="deny",
                           trusted_suggestion="oma", **kw)
    assert no == {"trusted_suggest": "no"}
    # Involved only with the child's yes; the caseworker's line says so only then.
    await validate(form, "trusted_involve", "ja", intent="affirm", trusted_has="yes",
                   trusted_knows="yes", trusted_who_text="oma", **kw)
    (row,) = rows(configured, TrustedPerson)
    assert row.wants_involved is True
    with configured.begin() as session:
        (item,) = [i for i in interview.current_items(session=session, child_id=child_id)
                   if isinstance(i.row, TrustedPerson)]
        assert "betrokken" in summary.item_line(domain, item)
        assert summary.child_line(domain, item) == "Je vertrouwt oma. Je wilt dat oma meepraat."


async def test_no_trusted_person_is_offered_help_and_may_skip(configured, linked_child):
    linked_child(age=10)
    form = ValidateTrustedForm()
    kw = {"form": "trusted_form"}
    nobody, _ = await validate(form, "trusted_has", "weet ik niet", intent="dont_know", **kw)
    assert nobody == {"trusted_has": "unsure", "trusted_suggest": False, "trusted_who": False,
                      "trusted_knows": False, "trusted_involve": False}
    helped, _ = await validate(form, "trusted_help", "ja", intent="affirm",
                               trusted_has="unsure", **kw)
    assert helped == {"trusted_help": "yes"}
    (row,) = rows(configured, TrustedPerson)
    assert (row.has_someone, row.who, row.wants_help) == (None, None, True)
    skipped, said = await validate(form, "trusted_has", "overslaan", intent="skip", **kw)
    assert set(skipped.values()) == {False} and said == ["utter_skipped"]
    named, _ = await validate(form, "trusted_has", "ja mijn oma", intent="inform", **kw)
    assert named["trusted_has"] == "yes" and named["trusted_who"] == "oma"
    assert len(rows(configured, TrustedPerson)) == 1


# --- open answers ------------------------------------------------------------------------

@pytest.mark.parametrize(("form", "slot", "form_name", "topic"), [
    (ValidateSayForm(), "own_say", "say_form", "own_say"),
    (ValidateContinuityForm(), "keep_same", "continuity_form", "keep_same"),
    (ValidateContinuityForm(), "changed_lately", "continuity_form", "changed"),
    (ValidateHeardForm(), "caseworker_message", "heard_form", "message"),
])
async def test_open_answers_are_stored_skips_are_not(configured, linked_child, form, slot,
                                                     form_name, topic):
    linked_child()
    stored, said = await validate(form, slot, "wanneer ik mijn vader zie", form=form_name)
    assert stored == {slot: "wanneer ik mijn vader zie"} and said == ["utter_noted"]
    skipped, said = await validate(form, slot, "nee hoor", intent="deny", form=form_name)
    assert skipped == {slot: False} and said == ["utter_skipped"]
    vague, said = await validate(form, slot, "ja", intent="affirm", form=form_name)
    assert vague == {slot: None} and said == ["utter_tell_more"]
    (row,) = rows(configured, Answer)
    assert (row.topic, row.text) == (topic, "wanneer ik mijn vader zie")


async def test_what_changed_reopens_the_summary(configured, linked_child):
    linked_child()
    result, _ = await validate(ValidateUpdateForm(), "what_changed", "ik ben verhuisd",
                               form="update_form", steps_done=ALL_STEPS)
    assert result["steps_done"] == ALL_STEPS[:-1]
    nothing, _ = await validate(ValidateUpdateForm(), "what_changed", "nee", intent="deny",
                                form="update_form", steps_done=ALL_STEPS)
    assert nothing["what_changed"] is False


# --- wish topics -------------------------------------------------------------------------

async def test_wish_topic_is_classified_or_asked(configured, linked_child, domain):
    linked_child(age=7)
    form = ValidateWishForm()
    dispatcher = CollectingDispatcher()
    known = await validate_slot(form, "wish", "ik wil op mijn voetbalclub blijven", dispatcher,
                                     load_tracker(), domain)
    assert known["wish_topic"] == "hobby"
    unknown = await validate_slot(
        form, "wish", "een telefoon", CollectingDispatcher(), load_tracker(), domain
    )
    assert unknown["wish_topic"] is None
    asked = await validate_slot(form, "wish_topic", "/choose", CollectingDispatcher(),
        tracker("wish_topic", '/choose{"choice":"toekomst"}', intent="choose", form="wish_form",
                choice="toekomst", last_wish_id=unknown["last_wish_id"]), domain)
    assert asked == {"wish_topic": "toekomst"}
    assert [(w.text, w.topic) for w in rows(configured, Wish)] == [
        ("ik wil op mijn voetbalclub blijven", "hobby"), ("een telefoon", "toekomst")]


# --- summary and the per-item choice ----------------------------------------------------

def _tell_everything(sessions, child_id: int) -> None:
    with sessions.begin() as session:
        repo.add_wish(session=session, child_id=child_id, session_id=None, text="een hond",
                      topic="hobby")
        person = interview.add_person(session=session, child_id=child_id, session_id=None,
                                      label="oma", name=None, role="oma")
        interview.update_person(session=session, child_id=child_id, person_id=person.id,
                                ring=1, frequency="weekly", contact_wish="more")
        interview.add_trusted_person(session=session, child_id=child_id, session_id=None,
                                     has_someone=True, who="juf Sanne", person_knows=True,
                                     wants_help=None)
        interview.add_answer(session=session, child_id=child_id, session_id=None,
                             topic="message", text="ik mis mijn moeder")


async def _summary(domain) -> tuple[list[str], str]:
    said, slots, dispatcher = await run(ActionShowSummary(), load_tracker(active_loop={}), domain)
    assert said == ["utter_summary"]
    return slots["share_refs"], dispatcher.messages[0]["items"]


async def test_summary_lists_every_topic_numbered(configured, linked_child, domain):
    _tell_everything(configured, linked_child())
    refs, items = await _summary(domain)
    # The child reads their own summary in their own voice (issue 11).
    assert items.splitlines() == [
        "1. Je wens: een hond",
        "2. Oma is heel belangrijk voor je. Je wilt vaker bij oma zijn.",
        "3. Je vertrouwt juf Sanne.",
        "4. Je bericht: ik mis mijn moeder",
    ]
    assert [r.split(":")[0] for r in refs] == ["wish", "person", "trusted", "answer"]


async def test_per_item_choice_shares_only_the_yes_items(configured, linked_child, domain):
    _tell_everything(configured, linked_child(age=8))
    refs, _ = await _summary(domain)
    form = ValidateShareForm()
    each = await validate_slot(form, "share_mode", "", CollectingDispatcher(),
        tracker("share_mode", '/choose{"choice":"each"}', intent="choose", form="share_form",
                choice="each", share_refs=refs), domain)
    assert each["share_mode"] == "each" and each["share_item_text"] == "1. Je wens: een hond"
    queue = each["share_queue"]
    for answer, intent in (("ja", "affirm"), ("nee", "deny"), ("weet niet", "dont_know"),
                           ("ja", "affirm")):
        result = await validate_slot(form, "share_item", answer, CollectingDispatcher(),
            tracker("share_item", answer, intent=intent, form="share_form", share_refs=refs,
                    share_queue=queue), domain)
        queue = result["share_queue"]
    assert result == {"share_item": "done", "share_queue": []}

    said, slots, _ = await run(ActionShareSummary(), load_tracker(slots={"share_refs": refs}),
                               domain)
    assert said == ["utter_summary_partly_shared"]
    assert "summary" in slots["steps_done"]
    (outbox,) = rows(configured, SharedSummary)
    assert outbox.body == "• Wens (hobby): een hond\n• Voor de jeugdzorgwerker: ik mis mijn moeder"
    with configured.begin() as session:
        items = interview.current_items(session=session, child_id=outbox.child_id)
        assert [(i.row.shared, i.row.shared_summary_id) for i in items] == [
            (True, outbox.id), (False, None), (False, None), (True, outbox.id)]
    # Shown again, nothing is left to decide.
    said, _, _ = await run(ActionShowSummary(), load_tracker(active_loop={}), domain)
    assert said == ["utter_summary_empty"]


async def test_typed_numbers_pick_items(configured, linked_child, domain):
    _tell_everything(configured, linked_child(age=15))
    refs, _ = await _summary(domain)
    form = ValidateShareForm()
    wrong = CollectingDispatcher()
    assert await validate_slot(
        form,
        "share_mode",
        "7",
        wrong,
        tracker("share_mode", "7", intent="choose", form="share_form", share_refs=refs),
        domain,
    ) == {"share_mode": None}
    assert responses(wrong) == ["utter_share_numbers_unknown"]
    picked = await validate_slot(form, "share_mode", "1 en 3", CollectingDispatcher(),
        tracker("share_mode", "1 en 3", intent="choose", form="share_form", share_refs=refs),
        domain)
    assert picked == {"share_mode": "numbers", "share_item": True}
    await run(ActionShareSummary(), load_tracker(slots={"share_refs": refs}), domain)
    (outbox,) = rows(configured, SharedSummary)
    assert outbox.body.splitlines() == ["• Wens (hobby): een hond",
                                        "• Vertrouwenspersoon: juf Sanne, die persoon weet het"]


def test_typed_numbers():
    assert typed_numbers("1 3") == [1, 3]
    assert typed_numbers("1, 2 en 4") == [1, 2, 4]
    assert typed_numbers("nummer 2") == [2]
    assert typed_numbers("alles") is None
    assert typed_numbers("ik ben 12") is None


# --- the flow: intros, resuming, redoing, returning ---------------------------------------

async def test_a_finished_form_moves_to_the_next_topic_with_its_intro(configured, linked_child,
                                                                      domain):
    linked_child()
    t = load_tracker(intent="deny", active_loop={}, latest_action_name="trusted_form",
                     slots={"steps_done": ["wishes", "people"], "step_started": "trusted"})
    said, slots, _ = await run(ActionContinue(), t, domain)
    assert said == ["utter_say_intro"]
    assert slots["steps_done"] == ["wishes", "people", "trusted"]
    assert slots["next_step"] == "say" and slots["step_started"] == "say"


@pytest.mark.parametrize("step", ["people", "trusted", "say", "continuity", "heard", "summary"])
async def test_a_greeting_says_where_the_child_left_off(configured, linked_child, domain, step):
    linked_child()
    done = ALL_STEPS[:ALL_STEPS.index(step)]
    t = load_tracker(intent="greet", text="hoi", active_loop={}, latest_action_name="action_listen",
                     slots={"steps_done": done, "step_started": step})
    said, slots, _ = await run(ActionContinue(), t, domain)
    assert said == ["utter_greet_back", f"utter_resume_{step}"]
    assert slots["next_step"] == step


async def test_redo_replaces_the_topic_and_reopens_the_summary(configured, linked_child, domain):
    child_id = linked_child()
    with configured.begin() as session:
        repo.add_wish(session=session, child_id=child_id, session_id=None, text="een hond")
    t = load_tracker(intent="redo_topic", text="ik wil mijn wensen veranderen", active_loop={},
                     slots={"steps_done": ALL_STEPS, "step_started": "heard"})
    said, slots, _ = await run(ActionRedoTopic(), t, domain)
    assert said == ["utter_redo_ok"]
    assert slots["steps_done"] == ["people", "trusted", "say", "continuity", "heard"]
    assert slots["wish"] is None and slots["step_started"] is None
    (old,) = rows(configured, Wish)
    assert old.replaced_at is not None
    with configured.begin() as session:
        assert interview.current_items(session=session, child_id=child_id) == []

    button = load_tracker(intent="redo_topic", text="/redo_topic", active_loop={},
                          entities=[{"entity": "topic", "value": "people"}],
                          slots={"steps_done": ALL_STEPS})
    _, slots, _ = await run(ActionRedoTopic(), button, domain)
    assert "people" not in slots["steps_done"] and slots["people_text"] is None

    unknown = load_tracker(intent="redo_topic", text="ik wil iets veranderen", active_loop={})
    said, slots, _ = await run(ActionRedoTopic(), unknown, domain)
    assert said == ["utter_ask_redo_which"] and slots == {"redo_result": "unknown"}
    said, slots, _ = await run(ActionContinue(), load_tracker(
        intent="redo_topic", active_loop={}, latest_action_name="action_redo_topic",
        slots={"redo_result": "unknown"}), domain)
    assert said == [] and slots["next_step"] == "wait"


async def test_a_returning_child_is_asked_what_changed_per_topic(
    configured, linked_child, domain
):
    child_id = linked_child(age=15)
    _tell_everything(configured, child_id)
    with configured.begin() as session:
        items = interview.current_items(session=session, child_id=child_id)
        interview.decide(session=session, child_id=child_id, refs=[items[0].ref], shared=True)
        interview.decide(session=session, child_id=child_id, refs=[items[1].ref], shared=False)
    t = load_tracker(intent="greet", text="hoi", active_loop={},
                     slots={"steps_done": ALL_STEPS, "step_started": "summary"})
    said, slots, _ = await run(ActionContinue(), t, domain)
    assert said == ["utter_greet_back", "utter_returning"]
    # Only the topics the child told about, one at a time, with what they said then.
    assert slots["update_queue"] == ["wishes", "people", "trusted", "heard"]
    assert slots["update_topic"] == "wishes"
    assert slots["update_lines"].splitlines()[1] == "• Je wens: een hond 📬"
    assert slots["next_step"] == "update" and slots["what_changed"] is None

    asked = {"update_queue": slots["update_queue"], "update_topic": "wishes",
             "steps_done": ALL_STEPS}
    form = ValidateUpdateForm()
    answer, _ = await validate(form, "what_changed", "ik wil nu een kat", form="update_form",
                               **asked)
    # The next topic is asked; the summary will come again for the new answer.
    assert answer["what_changed"] is None and answer["update_topic"] == "people"
    assert answer["update_queue"] == ["people", "trusted", "heard"]
    assert "oma" in answer["update_lines"] and "🔒" in answer["update_lines"]
    assert answer["steps_done"] == ALL_STEPS[:-1]
    skipped, _ = await validate(form, "what_changed", "nee", intent="deny", form="update_form",
                                **{**asked, "update_queue": ["heard"], "update_topic": "heard"})
    assert skipped["what_changed"] is False and skipped["update_queue"] == []

    # The new answer sits next to the old one, in the child's and the caseworker's words.
    with configured.begin() as session:
        lines = [(summary.child_line(domain, item), summary.item_line(domain, item))
                 for item in interview.current_items(session=session, child_id=child_id)]
    assert lines[0][0] == "Je wens: een hond"
    assert lines[1] == ("Nieuw sinds de vorige keer: ik wil nu een kat",
                        "Nieuw sinds vorige keer (je wensen ⭐): ik wil nu een kat")

    after = load_tracker(intent="inform", active_loop={}, latest_action_name="update_form",
                         slots={"steps_done": ALL_STEPS})
    said, slots, _ = await run(ActionContinue(), after, domain)
    assert said == ["utter_ask_redo"] and slots["next_step"] == "wait"
    done = load_tracker(intent="deny", text="nee", active_loop={},
                        slots={"steps_done": ALL_STEPS})
    said, slots, _ = await run(ActionContinue(), done, domain)
    assert said == ["utter_all_done"] and slots["next_step"] == "done"


async def test_a_finished_child_who_types_something_is_heard(configured, linked_child, domain):
    child_id = linked_child(age=8)
    text = "ik mag nu elke week naar oma"
    t = load_tracker(intent="inform", text=text, active_loop={}, latest_action_name="action_listen",
                     slots={"steps_done": ALL_STEPS, "step_started": "summary"})
    said, slots, _ = await run(ActionContinue(), t, domain)
    # Kept, never lost to utter_all_done; the summary asks who may read it.
    assert said == ["utter_returning_kept"]
    assert slots["next_step"] == "summary" and "summary" not in slots["steps_done"]
    (row,) = rows(configured, Answer)
    assert (row.child_id, row.topic, row.text) == (child_id, "update", text)
    # An unrecognised message is kept too; a button press or a short "ok" is not news.
    fallback = load_tracker(intent="nlu_fallback", text="blablabla", active_loop={},
                            slots={"steps_done": ALL_STEPS, "step_started": "summary"})
    said, _, _ = await run(ActionContinue(), fallback, domain)
    assert said == ["utter_returning_kept"] and len(rows(configured, Answer)) == 2
    ok = load_tracker(intent="affirm", text="oké", active_loop={},
                      slots={"steps_done": ALL_STEPS, "step_started": "summary"})
    said, slots, _ = await run(ActionContinue(), ok, domain)
    assert said == ["utter_all_done"] and len(rows(configured, Answer)) == 2


async def test_answers_survive_the_form_being_activated_again(configured, linked_child, domain):
    """After "stop" and "hoi", Rasa re-validates the slots filled before: kept, not asked
    again; a value taken from the activating message itself is dropped."""
    linked_child()
    back = {"requested_slot": None}
    hoi = load_tracker(text="hoi", intent="greet", active_loop={"name": "people_form"},
                       slots=back)
    form = ValidatePeopleForm()
    assert await validate_slot(
        form, "people_text", "mn oma", CollectingDispatcher(), hoi, domain
    ) == {"people_text": "mn oma"}
    assert await validate_slot(
        form, "people_confirm", True, CollectingDispatcher(), hoi, domain
    ) == {"people_confirm": True}
    assert await validate_slot(
        ValidateTrustedForm(), "trusted_has", "no", CollectingDispatcher(), hoi, domain
    ) == {"trusted_has": "no"}
    assert await validate_slot(
        ValidateSayForm(), "own_say", False, CollectingDispatcher(), hoi, domain
    ) == {"own_say": False}
    assert await validate_slot(
        ValidateSayForm(), "own_say", "hoi", CollectingDispatcher(), hoi, domain
    ) == {"own_say": None}
    assert rows(configured, Answer) == []


async def test_the_youngest_get_two_questions_per_person(configured, linked_child):
    linked_child(age=7)
    form = ValidatePeopleForm()
    found, _ = await validate(form, "people_text", "oma en mijn broer Daan", age_group="6-9")
    confirmed, _ = await validate(form, "people_confirm", "ja", intent="affirm", age_group="6-9",
                                  people_found=found["people_found"])
    # Oma: how important, more or less often; never "how often now" for a 6-9.
    assert confirmed["current_person"] == "oma"
    asked = [k for k in ("person_ring", "sibling_together", "sibling_where", "person_frequency",
                         "person_contact") if confirmed[k] is None]
    assert asked == ["person_ring", "person_contact"]
    moved, _ = await validate(form, "person_contact", "vaker", intent="choose", age_group="6-9",
                              people_queue=confirmed["people_queue"])
    # Brother Daan: does he live with you, more or less often.
    assert moved["current_person"] == "broer Daan"
    asked = [k for k in ("person_ring", "sibling_together", "sibling_where", "person_frequency",
                         "person_contact") if moved[k] is None]
    assert asked == ["sibling_together", "person_contact"]


async def test_brothers_and_sisters_and_who_the_child_misses(configured, linked_child, domain):
    child_id = linked_child(age=12)
    form = ValidatePeopleForm()
    found, _ = await validate(form, "people_text", "mijn zus Lisa en mijn broer Daan")
    confirmed, _ = await validate(form, "people_confirm", "ja", intent="affirm",
                                  people_found=found["people_found"])
    queue = confirmed["people_queue"]
    assert confirmed["sibling_together"] is None and confirmed["sibling_where"] is None
    apart, _ = await validate(form, "sibling_together", '/choose{"choice":"apart"}',
                              intent="choose", choice="apart", people_queue=queue)
    assert apart == {"sibling_together": "apart"}
    where, _ = await validate(form, "sibling_where", "bij papa in Zwolle", people_queue=queue)
    assert where == {"sibling_where": "bij papa in Zwolle"}
    together, _ = await validate(form, "sibling_together", "we wonen samen", intent="inform",
                                 people_queue=queue[1:])
    assert together == {"sibling_together": "together", "sibling_where": False}
    missed, said = await validate(form, "missed_people", "mijn oude buurvrouw Els")
    assert missed == {"missed_people": "mijn oude buurvrouw Els"}
    assert said == ["utter_missed_noted"]
    nobody, _ = await validate(form, "missed_people", "niemand", intent="deny")
    assert nobody == {"missed_people": False}

    lisa, daan, els = rows(configured, Person)
    assert (lisa.placed_together, lisa.lives_where) == (False, "bij papa in Zwolle")
    assert (daan.placed_together, daan.lives_where) == (True, None)
    assert (els.label, els.missed, els.child_id) == ("buurvrouw Els", True, child_id)
    with configured.begin() as session:
        items = interview.current_items(session=session, child_id=child_id)
        child = [summary.child_line(domain, item) for item in items]
        caseworker = [summary.item_line(domain, item) for item in items]
    assert child == ["Zus Lisa is belangrijk voor je. Zus Lisa woont ergens anders.",
                     "Broer Daan is belangrijk voor je. Je woont samen met broer Daan.",
                     "Je mist buurvrouw Els."]
    assert caseworker[0] == "Belangrijk: zus Lisa (woont ergens anders: bij papa in Zwolle)"
    assert caseworker[2] == "Gemist (geen contact meer): buurvrouw Els"
