"""Only our own commands and offered buttons reach Rasa's "/intent" shortcut (the pure
part of bot/nlu/channel.py; tests/e2e/test_commands.py checks it against real Rasa)."""

from __future__ import annotations

import pytest

from bot.nlu.command_filter import filter_message, offered_payloads


@pytest.mark.parametrize("text", [
    "/start K7MP-Q2XR", "/start", "/stop", "/privacy", "/vergeet", "/vergeet mij", "/help",
    "/start@MijnStemBot K7MPQ2XR", "  /stop ", "/media_unsupported", "/message_edited",
    "gewoon tekst", "ik wil /restart niet",
])
def test_our_commands_and_plain_text_pass_unchanged(text: str) -> None:
    assert filter_message(text, set()) == text


@pytest.mark.parametrize(("text", "plain"), [
    ("/restart", "restart"),
    ("/ restart", "restart"),
    ("  /  restart", "restart"),
    ("//restart", "restart"),
    ("/ / restart", "restart"),
    ("/safety_alarm", "safety_alarm"),
    ('/safety_alarm{"x": 1}', 'safety_alarm{"x": 1}'),
    ("/session_start", "session_start"),
    ("/affirm", "affirm"),
    ('/stop{"linked": true}', 'stop{"linked": true}'),
    ("/stop@0.9", "stop@0.9"),
    ("/", "?"),
])
def test_every_other_intent_becomes_plain_text(text: str, plain: str) -> None:
    assert filter_message(text, set()) == plain


def test_offered_buttons_pass_and_only_those() -> None:
    events = [
        {"event": "bot", "data": {"buttons": [{"title": "ja", "payload": "/affirm"}]}},
        {"event": "user", "text": "ja"},
        {"event": "action", "name": "utter_ask_share_mode"},
        {"event": "bot", "data": {"buttons": [
            {"title": "Alles", "payload": '/choose{"choice":"all"}'},
            {"title": "Niets", "payload": '/choose{"choice":"none"}'}]}},
        {"event": "bot", "text": "nog iets", "data": {}},
    ]
    offered = offered_payloads(events)
    assert offered == {'/choose{"choice":"all"}', '/choose{"choice":"none"}'}
    assert filter_message('/choose{"choice":"all"}', offered) == '/choose{"choice":"all"}'
    # A button of an earlier answer, or a forged payload, is plain text.
    assert filter_message("/affirm", offered) == "affirm"
    assert filter_message('/choose{"choice":"everything"}', offered) == \
        'choose{"choice":"everything"}'
    assert filter_message("/restart", offered) == "restart"
