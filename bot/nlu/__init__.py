"""Custom Rasa NLU components. Imported by Rasa inside `.venv-rasa`: stdlib and spaCy only."""
