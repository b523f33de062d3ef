"""The web chat for children (and later other web pages): a FastAPI app in front of Rasa."""
