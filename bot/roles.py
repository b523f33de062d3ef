"""Portal account roles. Import-free, so that `python -m bot --help` can list them
without loading the account code (argon2, SQLAlchemy)."""

from __future__ import annotations

ROLES = ("caseworker", "teamlead", "admin")
