"""Notifications to caseworkers (Telegram), sent from the actions and the worker."""
