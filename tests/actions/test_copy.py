"""Copy tests (issue 11): the first turn a child meets, hard words for the youngest,
names instead of jargon, no secrecy and no promise that something was sent when it
was not. The first turn is what the real actions say after a real link, rendered the
way Rasa renders it (slots and the action's values filled in)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import deps
from actions.common import hashed_sender
from actions.copy import render
from actions.flow import ActionContinue
from actions.link import ActionLinkChat
from actions.summary import ActionShareSummary
from bot import invites
from bot.age import AGE_GROUPS
from bot.storage import interview, repo
from scripts.copy_report import variant_for, words
from tests.actions.conftest import load_tracker, responses, slot_events

# Words a 6-9-year-old should not meet (issue 11).
HARD_WORDS = ("jeugdzorgwerker", "vertrouwenspersoon", "overig", "diegene", "formuleren",
              "zeggenschap", "continuïteit", "inspraak", "privacyverklaring", "pseudoniem")
# Said before a chat is linked (no age band, no names yet) or only to caseworkers.
BEFORE_LINK = ("utter_invite_", "utter_ask_code", "utter_link_", "utter_age_", "utter_ask_age",
               "utter_label_")
AGES = {"6-9": 7, "10-13": 11, "14-18": 16}


def _make_child(sessions, settings, *, age: int, name: str | None, caseworker: str | None) -> str:
    code = invites.new_code()
    with sessions.begin() as session:
        worker = (repo.add_caseworker(session=session, email=f"{code}@example.org", name=caseworker)
                  if caseworker else None)
        child = repo.create_child(session=session, display_name=name, age=age, age_group=None,
                                  caseworker=worker)
        repo.create_invite(session=session, child=child,
                           code_hash=invites.code_hash(settings.pseudonym_secret, code),
                           ttl=timedelta(days=14))
    return code


async def first_turn(domain, sessions, settings, *, age: int, name: str | None = "Noor",
                     caseworker: str | None = "Sanne de Vries") -> tuple[list[str], str]:
    """The real link and continue actions after `/start CODE`; the bot's messages as the
    child reads them, and the band."""
    code = _make_child(sessions, settings, age=age, name=name, caseworker=caseworker)
    linking = load_tracker(intent="link_chat", text=f"/start {code}", active_loop={},
                           entities=[{"entity": "invite_code", "value": code}],
                           slots={"linked": False, "age_group": None})
    dispatcher = CollectingDispatcher()
    link_slots = slot_events(await ActionLinkChat().run(dispatcher, linking, domain))
    assert link_slots["link_result"] == "linked"
    band = link_slots["age_group"]
    slots = {"steps_done": [], "step_started": None, "requested_slot": None, **link_slots}
    after = load_tracker(intent="link_chat", active_loop={}, latest_action_name="action_link_chat",
                         slots=slots)
    dispatcher = CollectingDispatcher()
    events = slot_events(await ActionContinue().run(dispatcher, after, domain))
    assert events["next_step"] == "wishes"
    texts = [_say(domain, m, band, slots) for m in dispatcher.messages]
    # The wish form asks its first question next (data/rules/core.yml).
    texts.append(_say(domain, {"response": "utter_ask_wish"}, band, {**slots, **events}))
    return texts, band


def _say(domain, message: dict[str, Any], band: str, slots: dict[str, Any]) -> str:
    values = {k: v for k, v in slots.items() if v is not None}
    values.update({k: v for k, v in message.items() if k not in _MESSAGE_KEYS})
    values.pop("age_group", None)
    return render(domain, message["response"], band, **values)


# What a rasa-sdk message holds besides the values an action passes to the template.
_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image",
                 "attachment"}


@pytest.mark.parametrize("band", AGE_GROUPS)
async def test_first_turn_is_short_and_asks_one_question(configured, settings, domain, band):
    texts, got = await first_turn(domain, configured, settings, age=AGES[band])
    assert got == band
    total = sum(words(t) for t in texts)
    assert total < 40, (total, texts)
    before_question = texts[:-1]
    assert all("?" not in t for t in before_question), "a question before the question"
    assert texts[-1].count("?") == 1
    if band == "6-9":
        assert len(before_question) <= 2, before_question


@pytest.mark.parametrize("band", AGE_GROUPS)
async def test_the_child_and_the_caseworker_are_named(configured, settings, domain, band):
    texts, _ = await first_turn(domain, configured, settings, age=AGES[band])
    joined = "\n".join(texts)
    assert "Noor" in joined and "Sanne" in joined
    assert "Vries" not in joined, "the caseworker's first name only"
    assert "jeugdzorgwerker" not in joined


@pytest.mark.parametrize("band", AGE_GROUPS)
async def test_without_names_the_copy_falls_back(configured, settings, domain, band):
    texts, _ = await first_turn(domain, configured, settings, age=AGES[band], name=None,
                                caseworker=None)
    joined = "\n".join(texts)
    assert "None" not in joined and "{" not in joined
    fallback = render(domain, "utter_label_caseworker_fallback", band)
    assert fallback in joined
    assert (fallback == "je jeugdzorgwerker") == (band != "6-9")
    assert sum(words(t) for t in texts) < 40


def _seen_by(domain, band: str) -> dict[str, str]:
    """Every text (and button title) a linked child of this band can meet."""
    seen = {}
    for name, variants in domain["responses"].items():
        if name.startswith(BEFORE_LINK):
            continue
        variant = variant_for(variants, band)
        if variant is None:
            continue
        buttons = " ".join(b.get("title", "") for b in variant.get("buttons") or [])
        seen[name] = f"{variant.get('text', '')} {buttons}"
    return seen


def test_no_hard_words_for_the_youngest(domain):
    pattern = re.compile("|".join(HARD_WORDS), re.IGNORECASE)
    found = {name: pattern.findall(text) for name, text in _seen_by(domain, "6-9").items()
             if pattern.search(text)}
    assert not found, found
    # The child's own summary lines reach the youngest too.
    labels = {name: variants[0]["text"] for name, variants in domain["responses"].items()
              if name.startswith("utter_label_child_")}
    assert labels and not [n for n, t in labels.items() if pattern.search(t)]


def test_no_secrecy_language(domain):
    for band in (*AGE_GROUPS, None):
        for name, variants in domain["responses"].items():
            variant = variant_for(variants, band) or {}
            assert "geheim" not in str(variant.get("text", "")).lower(), (name, band)


def test_sent_is_only_said_with_a_caseworker_to_send_to(domain):
    """"Ik heb het naar Sanne gestuurd": only in responses that name the caseworker; the
    team variants say where it really went."""
    for name, variants in domain["responses"].items():
        for variant in variants:
            text = str(variant.get("text", ""))
            if "gestuurd" in text:
                assert "{caseworker_name}" in text, name
    for name in ("utter_summary_shared_team", "utter_summary_partly_shared_team"):
        for variant in domain["responses"][name]:
            assert "gestuurd" not in variant["text"] and "team" in variant["text"]


@pytest.mark.parametrize("caseworker", ["Sanne", None])
async def test_sharing_says_where_the_summary_went(configured, settings, domain, caseworker):
    code = _make_child(configured, settings, age=8, name="Noor", caseworker=caseworker)
    sender = "rest-copy-share"
    linking = load_tracker(intent="link_chat", text=f"/start {code}", active_loop={},
                           entities=[{"entity": "invite_code", "value": code}],
                           sender_id=sender, slots={"linked": False})
    await ActionLinkChat().run(CollectingDispatcher(), linking, domain)
    with deps.get().sessions.begin() as session:
        conversation = repo.find_conversation(session=session,
                                              sender_hash=hashed_sender(linking))
        assert conversation is not None
        child_id = conversation.child_id
        repo.add_wish(session=session, child_id=child_id, session_id=None, text="een hond")
        items = interview.current_items(session=session, child_id=child_id)
        interview.decide(session=session, child_id=child_id, refs=[i.ref for i in items],
                         shared=True)
    dispatcher = CollectingDispatcher()
    await ActionShareSummary().run(
        dispatcher, load_tracker(sender_id=sender, slots={"share_refs": []}), domain)
    said = responses(dispatcher)
    assert said == (["utter_summary_shared"] if caseworker else ["utter_summary_shared_team"])
    text = _say(domain, dispatcher.messages[0], "6-9",
                {"caseworker_name": caseworker or "je begeleider"})
    assert ("gestuurd" in text and "Sanne" in text) if caseworker else "gestuurd" not in text


# The safety question is not skippable; the age is asked before the band is known; a
# message to the caseworker is the child's own idea ("laat maar" cancels it).
NOT_SKIPPABLE = {"utter_ask_safe_now", "utter_ask_age", "utter_ask_message_to_caseworker",
                 # "May Sanne see it?": "Nee" is the skip, and sends nothing.
                 "utter_ask_feeling_share", "utter_ask_checkin_share"}


def test_every_question_offers_overslaan_to_the_youngest(domain):
    """The welcome promises "Overslaan mag": every form question has the button."""
    asked = {f"utter_ask_{slot}" for form in domain["forms"].values()
             for slot in form["required_slots"]} - NOT_SKIPPABLE
    missing = []
    for name in sorted(asked):
        variant = variant_for(domain["responses"][name], "6-9") or {}
        buttons = variant.get("buttons") or []
        if not any(b["payload"] == "/skip" and "Overslaan" in b["title"] for b in buttons):
            missing.append(name)
    assert not missing, missing


def test_typical_interview_before_issue_11_is_counted_from_the_forms():
    """scripts/copy_report.py --before: the old shape (every slot once per form, the
    person_* slots once per person, no help question and no per-item sharing)."""
    from scripts.copy_report import typical_questions_from_forms

    forms = {
        "wish_form": {"required_slots": ["wish", "wish_topic", "more_wishes"]},
        "people_form": {"required_slots": ["people_text", "people_confirm", "person_ring",
                                           "person_frequency", "person_contact",
                                           "more_people"]},
        "trusted_form": {"required_slots": ["trusted_has", "trusted_who", "trusted_knows",
                                            "trusted_help"]},
        "say_form": {"required_slots": ["own_say"]},
        "continuity_form": {"required_slots": ["keep_same", "changed_lately"]},
        "heard_form": {"required_slots": ["caseworker_message"]},
        "share_form": {"required_slots": ["share_mode", "share_item"]},
    }
    counted = typical_questions_from_forms({"forms": forms})
    assert counted == {"wishes": 6, "people": 15, "trusted": 3, "say": 1, "continuity": 2,
                       "heard": 1, "share": 1, "total": 29}


FEELING_CHECKIN_SENT = ("utter_feeling_sent", "utter_checkin_sent")
FEELING_CHECKIN_TEAM = ("utter_feeling_sent_team", "utter_checkin_sent_team")
FEELING_CHECKIN_NOTHING = ("utter_feeling_not_sent", "utter_feeling_cancelled",
                           "utter_checkin_not_sent", "utter_checkin_none")


def test_feeling_and_checkin_say_honestly_where_it_went(domain):
    """"Verstuurd" only after it was stored; named only when there is a caseworker; the
    team's wording otherwise; "niets verstuurd" when the child said no."""
    responses = domain["responses"]
    for band in AGE_GROUPS:
        for name in FEELING_CHECKIN_SENT:
            text = variant_for(responses[name], band)["text"]
            assert "Verstuurd" in text and "{caseworker_name}" in text, (name, band)
        for name in FEELING_CHECKIN_TEAM:
            text = variant_for(responses[name], band)["text"]
            assert "team" in text and "{caseworker_name}" not in text, (name, band)
        for name in FEELING_CHECKIN_NOTHING:
            text = variant_for(responses[name], band)["text"]
            assert "Verstuurd" not in text and "{caseworker_name}" not in text, (name, band)
    for name in ("utter_ask_feeling_share", "utter_ask_checkin_share"):
        conditions = []
        for variant in responses[name]:
            condition = {c["name"]: c["value"] for c in variant.get("condition") or []}
            named = condition.get("has_caseworker") is True
            assert ("{caseworker_name}" in variant["text"]) == named, (name, variant)
            if condition.get("has_caseworker") is False:
                assert "team" in variant["text"], (name, variant)
            conditions.append(condition)
        # Rasa picks at random among all matching conditional variants: a child with a
        # caseworker must never match a team variant (or the other way round).
        conditional = [c for c in conditions if c]
        assert all(set(c) == {"has_caseworker", "age_group"} for c in conditional), name
        assert len({tuple(sorted(c.items())) for c in conditional}) == len(conditional), name


def test_checkin_sent_promises_no_reading_before_the_meeting(domain):
    """Mijn Stem does not know the meeting's date (a check-in has only the day the child
    is invited, and may be done after the meeting), and the follow-up is due in working
    days: "leest het voor het gesprek" would promise what the code does not do."""
    for name in ("utter_checkin_sent", "utter_checkin_sent_team"):
        for band in AGE_GROUPS:
            text = variant_for(domain["responses"][name], band)["text"]
            assert "gesprek" not in text and "leest het voor" not in text, (name, band, text)


def test_checkin_invitation_tells_nothing_private(domain):
    """A phone screen may be seen by others: no names, no subject of the meeting."""
    for variant in domain["responses"]["utter_checkin_invite"]:
        assert "{" not in variant["text"]
        assert [b["payload"] for b in variant["buttons"]] == ["/checkin"]


def test_every_feeling_button_is_a_known_feeling(domain):
    from actions.common import choices

    feelings = choices("feeling")
    for variant in domain["responses"]["utter_ask_feeling"]:
        keys = [re.search(r'"choice":"(\w+)"', b["payload"]).group(1)
                for b in variant["buttons"] if "choice" in b["payload"]]
        assert keys and set(keys) == set(feelings), keys
