"""Rasa's answers rendered as Telegram messages."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import InvalidCallbackData

from bot.gateway import BotMessage, parse_reply
from bot.telegram.render import (
    MAX_TEXT,
    Button,
    Reply,
    chosen_title,
    keyboard,
    render,
    split_text,
)


def answers(body: object) -> list[BotMessage]:
    return parse_reply(body) or []


def test_text_with_buttons_becomes_one_message_with_its_keyboard():
    replies = render(answers([
        {"recipient_id": "tg-x", "text": "Heb je nog een wens?",
         "buttons": [{"title": "Ja 👍", "payload": "/affirm"},
                     {"title": "Nee 👎", "payload": "/deny"}]},
    ]))
    assert replies == [Reply(text="Heb je nog een wens?",
                             buttons=(Button("Ja 👍", "/affirm"), Button("Nee 👎", "/deny")))]


def test_messages_keep_their_order_and_images_become_photos():
    replies = render(answers([
        {"text": "Eerst dit."},
        {"image": "https://example.org/kaart.png"},
        {"text": "Dan dit."},
    ]))
    assert replies == [
        Reply(text="Eerst dit."),
        Reply(photo="https://example.org/kaart.png"),
        Reply(text="Dan dit."),
    ]


def test_image_with_a_short_text_is_a_photo_with_caption():
    replies = render(answers([{"text": "Kijk!", "image": "https://example.org/a.png"}]))
    assert replies == [Reply(text="Kijk!", photo="https://example.org/a.png")]


def test_image_with_a_text_too_long_for_a_caption_is_sent_as_two_messages():
    text = "woord " * 300
    replies = render(answers([{"text": text, "image": "https://example.org/a.png"}]))
    assert [r.photo for r in replies] == ["https://example.org/a.png", None]
    assert replies[1].text == text.strip()


def test_empty_answers_and_odd_buttons_are_skipped():
    assert render(answers([{"text": ""}, {"custom": {"x": 1}}])) == []
    replies = render(answers([{"text": "Kies", "buttons": [{"title": ""}, "rubbish",
                                                    {"title": "Ja", "payload": "/affirm"}]}]))
    assert replies[0].buttons == (Button("Ja", "/affirm"),)


def test_long_text_is_split_at_line_breaks_and_the_keyboard_goes_on_the_last_part():
    lines = [f"• wens nummer {i} " + "x" * 80 for i in range(120)]
    text = "\n".join(lines)
    replies = render(answers([{"text": text, "buttons": [{"title": "Ja", "payload": "/affirm"}]}]))
    assert len(replies) > 1
    assert all(len(r.text or "") <= MAX_TEXT for r in replies)
    assert "\n".join(r.text or "" for r in replies) == text
    assert [bool(r.buttons) for r in replies] == [False] * (len(replies) - 1) + [True]


def test_split_text_without_spaces_still_fits():
    parts = split_text("x" * 10_000)
    assert [len(p) for p in parts] == [MAX_TEXT, MAX_TEXT, 10_000 - 2 * MAX_TEXT]


def test_short_buttons_share_a_row_long_ones_get_a_row_each():
    short = keyboard((Button("Ja 👍", "/affirm"), Button("Nee 👎", "/deny")))
    assert short is not None
    assert [[b.text for b in row] for row in short.inline_keyboard] == [["Ja 👍", "Nee 👎"]]
    long = keyboard((Button("Ja, mag lezen", "/affirm"), Button("Nee, privé houden", "/deny")))
    assert long is not None
    assert [[b.text for b in row] for row in long.inline_keyboard] == [
        ["Ja, mag lezen"], ["Nee, privé houden"]]
    assert keyboard(()) is None


def test_the_payload_itself_is_the_callback_data():
    """PTB's arbitrary_callback_data puts a short key on the wire, so a payload longer
    than Telegram's 64 bytes needs no store of our own."""
    payload = '/inform{"topic": "school", "detail": "een heel lang stuk tekst hier"}'
    markup = keyboard((Button("School", payload),))
    assert markup is not None and markup.inline_keyboard[0][0].callback_data == payload


def test_chosen_title_finds_the_pressed_button():
    markup = keyboard((Button("Ja", "/affirm"), Button("Nee", "/deny")))
    assert chosen_title(markup, "/deny") == "Nee"
    assert chosen_title(markup, "/other") is None
    assert chosen_title(None, "/deny") is None


def test_after_a_restart_the_pressed_title_is_still_found():
    """PTB no longer knows a keyboard sent before a restart: the buttons and the press
    carry InvalidCallbackData with the raw key."""
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton("Ja", callback_data=InvalidCallbackData("k1")),
        InlineKeyboardButton("Nee", callback_data=InvalidCallbackData("k2")),
    ]])
    assert chosen_title(markup, InvalidCallbackData("k2")) == "Nee"
