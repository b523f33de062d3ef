"""Persistent storage: models, the engine factory and repository functions."""
