"""Mijn Stem: the application (storage, channels, safety, CLI).

Kept import-free on purpose: `bot.nlu` and `bot.safety` are also imported inside the
Rasa environment, which has a different SQLAlchemy, pydantic and spaCy.
"""
