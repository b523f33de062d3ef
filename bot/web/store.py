"""Web chat sessions in the app database.

The cookie holds a random token; the database keeps only its keyed hash, the chat it linked
to, and the last messages of the conversation (encrypted), so that a reload or a visit
days later on the same device shows the conversation so far. Rasa's sender id is derived
from the token with a key, so neither the database nor Rasa's tracker holds the other's key.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot import invites
from bot.pseudonym import keyed_hash, sender_hash
from bot.settings import Settings
from bot.storage import repo
from bot.storage.models import ConversationSession, Invite, WebSession, utcnow

# What a reload shows; older messages drop off (the child's answers are in the DB anyway).
TRANSCRIPT_LIMIT = 300
# A session not used for this long is gone: the child needs a new code. Kept short
# because a shared device may hold it (issue 9).
MAX_IDLE = timedelta(days=7)
# After this long without use the history is hidden until the child taps "verder"
# or types their code again: someone else may pick up a shared device.
PAUSE_AFTER = timedelta(minutes=30)
# A session that never linked to a child (wrong code, abandoned) is removed sooner.
MAX_IDLE_UNLINKED = timedelta(days=1)


@dataclass(frozen=True)
class Entry:
    sender: str  # "bot" or "child"
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, payload)
    image: str | None = None  # a path on this web app (the child's circle)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"from": self.sender, "text": self.text}
        if self.image:
            data["image"] = self.image
        if self.buttons:
            data["buttons"] = [{"title": t, "payload": p} for t, p in self.buttons]
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Entry:
        buttons = data.get("buttons") or []
        assert isinstance(buttons, list)
        return cls(
            sender=str(data.get("from")),
            text=str(data.get("text") or ""),
            buttons=[(str(b["title"]), str(b["payload"])) for b in buttons],
            image=str(data["image"]) if data.get("image") else None,
        )


@dataclass(frozen=True)
class WebChat:
    id: int
    sender: str
    transcript: list[Entry]
    pending_text: str | None
    linked: bool
    child_id: int | None = None
    last_seen_at: datetime | None = None

    def paused(self, now: datetime | None = None) -> bool:
        """A linked chat left alone for PAUSE_AFTER shows no history until resumed."""
        if not self.linked or self.last_seen_at is None:
            return False
        return (now or utcnow()) - self.last_seen_at > PAUSE_AFTER

    @property
    def open_buttons(self) -> list[tuple[str, str]]:
        """The buttons of the bot's last turn, if the child has not answered it yet."""
        buttons: list[tuple[str, str]] = []
        for entry in reversed(self.transcript):
            if entry.sender != "bot":
                break
            buttons = entry.buttons + buttons
        return buttons


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(secret: str, token: str) -> str:
    return keyed_hash(secret, "web-session:" + token)


def sender_for(secret: str, token: str) -> str:
    """Rasa's sender id for this session: pseudonymous, stable, "web-" for channel_of()."""
    return "web-" + keyed_hash(secret, "web-sender:" + token)[:32]


class WebSessions:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self._settings = settings
        self._sessions = sessions

    def _hash(self, token: str) -> str:
        return token_hash(self._settings.web_secret, token)

    def _sender(self, row: WebSession, token: str) -> str:
        return sender_for(self._settings.web_secret, row.sender_key or token)

    def create(self) -> str:
        """A new chat with its own sender id (never one of another chat)."""
        token = new_token()
        key = new_token()
        sender = sender_for(self._settings.web_secret, key)
        with self._sessions.begin() as session:
            session.add(
                WebSession(
                    token_hash=self._hash(token),
                    transcript="[]",
                    sender_key=key,
                    sender_hash=sender_hash(self._settings.pseudonym_secret, sender),
                )
            )
        return token

    def load(self, token: str) -> WebChat | None:
        with self._sessions.begin() as session:
            query = select(WebSession).where(WebSession.token_hash == self._hash(token))
            row = session.scalar(query)
            if row is None:
                return None
            idle = MAX_IDLE if row.conversation_id is not None else MAX_IDLE_UNLINKED
            if utcnow() - row.last_seen_at > idle:
                session.delete(row)
                return None
            entries = [Entry.from_json(e) for e in json.loads(row.transcript)]
            child_id = (
                session.scalar(
                    select(ConversationSession.child_id).where(
                        ConversationSession.id == row.conversation_id
                    )
                )
                if row.conversation_id is not None
                else None
            )
            return WebChat(
                id=row.id,
                sender=self._sender(row, token),
                transcript=entries,
                pending_text=row.pending_text,
                linked=row.conversation_id is not None,
                child_id=child_id,
                last_seen_at=row.last_seen_at,
            )

    def rotate(self, chat: WebChat, token: str) -> str:
        """A new cookie token for the same chat (after linking): an old copy of the
        cookie stops working, the conversation with Rasa goes on."""
        fresh = new_token()
        with self._sessions.begin() as session:
            row = session.get(WebSession, chat.id)
            if row is None:
                return token
            if row.sender_key is None:
                row.sender_key = token
            row.token_hash = self._hash(fresh)
        return fresh

    def is_own_code(self, chat: WebChat, code: str) -> bool:
        """Whether `code` is one of the invites of the child this chat is linked to
        (typing one's own code again resumes a paused chat; any other code starts a
        fresh one)."""
        if chat.child_id is None:
            return False
        digest = invites.code_hash(self._settings.pseudonym_secret, code)
        with self._sessions.begin() as session:
            found = session.scalar(
                select(Invite.id).where(
                    Invite.child_id == chat.child_id, Invite.code_hash == digest
                )
            )
        return found is not None

    def touch(self, chat: WebChat) -> None:
        """The child tapped "verder": the history shows again."""
        with self._sessions.begin() as session:
            row = session.get(WebSession, chat.id)
            if row is not None:
                row.last_seen_at = utcnow()

    def record(self, chat: WebChat, entries: list[Entry]) -> None:
        """Append a finished exchange, clear the pending message, note the link to a child."""
        with self._sessions.begin() as session:
            row = session.get(WebSession, chat.id)
            if row is None:
                return  # erased meanwhile (the child left on this device, or was forgotten)
            transcript = json.loads(row.transcript) + [e.to_json() for e in entries]
            row.transcript = json.dumps(transcript[-TRANSCRIPT_LIMIT:], ensure_ascii=False)
            row.pending_text = None
            row.last_seen_at = utcnow()
            conversation = repo.find_conversation(
                session=session,
                sender_hash=sender_hash(self._settings.pseudonym_secret, chat.sender),
            )
            row.conversation_id = conversation.id if conversation is not None else None
            if row.sender_hash is None:
                row.sender_hash = sender_hash(self._settings.pseudonym_secret, chat.sender)

    def set_pending(self, chat: WebChat, text: str | None) -> None:
        with self._sessions.begin() as session:
            row = session.get(WebSession, chat.id)
            if row is not None:
                row.pending_text = text
                row.last_seen_at = utcnow()

    def delete(self, chat: WebChat) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(WebSession).where(WebSession.id == chat.id))


def purge_idle(*, session: Session) -> int:
    """Delete sessions idle for too long (their cookies no longer work anyway)."""
    now = utcnow()
    result = session.execute(
        delete(WebSession).where(
            or_(
                WebSession.last_seen_at < now - MAX_IDLE,
                (WebSession.conversation_id.is_(None))
                & (WebSession.last_seen_at < now - MAX_IDLE_UNLINKED),
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_once(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Worker job (bot/worker.py)."""
    with sessions.begin() as session:
        purge_idle(session=session)
