"""Dependencies of the actions, configured once by the process that starts them.

rasa-sdk instantiates action classes itself, so they cannot take constructor
arguments; they read what they need from here instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings


@dataclass(frozen=True)
class Deps:
    settings: Settings
    sessions: sessionmaker[Session]


class _Holder:
    deps: Deps | None = None


def configure(settings: Settings, sessions: sessionmaker[Session]) -> None:
    _Holder.deps = Deps(settings=settings, sessions=sessions)


def get() -> Deps:
    if _Holder.deps is None:
        raise RuntimeError("actions are not configured: start them with `python -m bot actions`")
    return _Holder.deps
