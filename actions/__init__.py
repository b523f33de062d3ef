"""Rasa custom actions. Thin: each module handles one form or feature and calls
`bot.storage.repo`; the engine is handed in by `bot.action_server` at start-up."""
