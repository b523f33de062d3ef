"""Safeguarding: spotting danger in a child's message, alerting the caseworker, escalating.

`bot.safety.detector` and `bot.safety.lexicon` are imported by the Rasa NLU pipeline
(.venv-rasa, spaCy 3.4, SQLAlchemy 1.4), so they use only the standard library and spaCy,
and nothing in this package's `__init__` may import more.
"""
