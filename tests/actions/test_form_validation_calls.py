"""Rasa leaves out a form's validation call when it has no slot candidates
(`bot/nlu/form_calls.py`). That is only right while every validation action of ours,
called without candidates, answers no events and no message: checked here for each
of them, in code (no rasa-sdk hook that decides slots dynamically) and by running it."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from rasa_sdk.events import ActionExecuted, SlotSet, UserUttered
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.forms import FormValidationAction, ValidationAction

from actions.base import FormValidation
from bot.nlu.form_calls import DYNAMIC_FORMS
from tests.actions.conftest import load_tracker

# rasa-sdk's hooks for forms that decide their slots at run time; a class that
# overrides one must be listed in DYNAMIC_FORMS.
DYNAMIC_HOOKS = ("required_slots", "next_requested_slot", "get_extraction_events",
                 "run", "_extract_validation_events", "_extract_slot")


def _validation_actions() -> list[Any]:
    executor = ActionExecutor()
    executor.register_package("actions")
    found = []
    for name, run in executor.actions.items():
        owner = getattr(run, "__self__", None)
        if isinstance(owner, FormValidationAction):
            found.append(owner)
        elif name.startswith("validate_"):
            raise AssertionError(f"{name} is not a FormValidationAction")
    return found


ACTIONS = _validation_actions()


def test_every_form_has_its_validation_action(domain):
    names = {action.name() for action in ACTIONS}
    assert names == {f"validate_{form}" for form in domain["forms"]}
    assert len(names) >= 10


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name())
def test_no_validation_action_decides_its_slots_at_run_time(action):
    if action.form_name() in DYNAMIC_FORMS:
        pytest.skip("listed as dynamic: always called")
    cls = type(action)
    assert isinstance(action, FormValidation)
    for hook in DYNAMIC_HOOKS:
        defined_by = next(k for k in cls.__mro__ if hook in vars(k))
        assert defined_by in (FormValidationAction, ValidationAction), (
            f"{cls.__name__} overrides {hook} ({defined_by.__name__}): add its form to "
            "bot/nlu/form_calls.py DYNAMIC_FORMS")
    extractors = [name for name, _ in inspect.getmembers(cls) if name.startswith("extract_")]
    assert not extractors, f"{cls.__name__} extracts slots itself: {extractors}"


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name())
async def test_without_candidates_a_validation_action_answers_nothing(action, domain,
                                                                      configured):
    """The call Rasa would make: a temporary tracker that ends with the form's own
    ActionExecuted and no SlotSet after it, the form asking its first slot."""
    form = action.form_name()
    first_slot = domain["forms"][form]["required_slots"][0]
    events = [ActionExecuted("action_listen"), UserUttered("nee", {"name": "deny"}),
              SlotSet("requested_slot", first_slot), ActionExecuted(form)]
    tracker = load_tracker(events=events, active_loop={"name": form},
                           latest_action_name=form,
                           slots={"requested_slot": first_slot})
    dispatcher = CollectingDispatcher()
    assert tracker.slots_to_validate() == {}
    assert await action.run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []
