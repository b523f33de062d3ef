"""bot/topics.py: the topic of a wish and the part of the interview to redo."""

from __future__ import annotations

import pytest

from bot.topics import redo_step, wish_topic


@pytest.mark.parametrize(("text", "topic"), [
    ("ik wil bij mijn broer wonen", "wonen"),
    ("ik wil een eigen kamer", "wonen"),
    ("ik wil niet meer verhuizen", "wonen"),
    ("ik wil papa vaker zien", "contact"),
    ("k wil naar me oma", "contact"),
    ("dat mijn ouders stoppen met ruzie", "contact"),
    ("ik wil naar een andere school", "school"),
    ("ik wil bijles", "school"),
    ("ik wil op dezelfde voetbalclub blijven", "hobby"),
    ("een hond", "hobby"),
    ("ik wil later dierenarts worden", "toekomst"),
    ("ik wil rijles", "toekomst"),
    ("ik wil dat ze naar mij luisteren", "inspraak"),
    ("een telefoon", None),
    ("rust", None),
])
def test_wish_topics(text, topic):
    assert wish_topic(text) == topic


@pytest.mark.parametrize(("text", "step"), [
    ("ik wil mijn wensen veranderen", "wishes"),
    ("ik wil mijn wens aanpassen", "wishes"),
    ("kan ik de mensen opnieuw doen", "people"),
    ("ik wil iets anders zeggen over wie ik vertrouw", "trusted"),
    ("ik wil mijn bericht aan mijn jeugdzorgwerker aanpassen", "heard"),
    ("ik wil iets veranderen", None),
    ("opnieuw", None),
])
def test_redo_steps(text, step):
    assert redo_step(text) == step
