"""The Telegram bridge: python-telegram-bot in front of Rasa's REST channel.

It only passes messages on and renders the answers; the dialogue state lives in
Rasa's tracker. See docs/telegram.md.
"""
