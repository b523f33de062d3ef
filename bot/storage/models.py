"""Database models. Free text (names, answers, summaries) is encrypted at rest."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import DateTime

from bot.age import current_age_group
from bot.storage.crypto import get_cipher


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class EncryptedText(TypeDecorator[str]):
    """Text stored as a Fernet token; plaintext never reaches the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else get_cipher().encrypt(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else get_cipher().decrypt(value)


class EncryptedInt(TypeDecorator[int]):
    """A whole number stored as a Fernet token (an age, a ring): not readable, and not
    searchable either; filter in Python after loading."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: object) -> str | None:
        return None if value is None else get_cipher().encrypt(str(int(value)))

    def process_result_value(self, value: str | None, dialect: object) -> int | None:
        return None if value is None else int(get_cipher().decrypt(value))


class EncryptedBool(TypeDecorator[bool]):
    """True/False stored as a Fernet token ("1"/"0" inside)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: bool | None, dialect: object) -> str | None:
        return None if value is None else get_cipher().encrypt("1" if value else "0")

    def process_result_value(self, value: str | None, dialect: object) -> bool | None:
        return None if value is None else get_cipher().decrypt(value) == "1"


# Every column type whose values are Fernet tokens (key rotation re-encrypts them all).
ENCRYPTED_TYPES = (EncryptedText, EncryptedInt, EncryptedBool)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on SQLite too (which drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use bot.storage.models.utcnow()")
        return value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class Caseworker(Base):
    __tablename__ = "caseworker"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The caseworker's own Telegram chat id, for notifications (encrypted).
    telegram_chat: Mapped[str | None] = mapped_column(EncryptedText())

    children: Mapped[list[Child]] = relationship(back_populates="caseworker")


class Child(Base):
    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A first name or a pseudonym; still personal data, so encrypted.
    display_name: Mapped[str | None] = mapped_column(EncryptedText())
    # Encrypted like free text; the age band stays in clear (the bot's voice needs it).
    age: Mapped[int | None] = mapped_column(EncryptedInt())
    age_group: Mapped[str | None] = mapped_column(String(8))
    # Birth month "YYYY-MM" (encrypted): the age band follows the birthday.
    born: Mapped[str | None] = mapped_column(EncryptedText())
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    caseworker: Mapped[Caseworker | None] = relationship(back_populates="children")

    @property
    def current_age_group(self) -> str | None:
        return current_age_group(born=self.born, stored=self.age_group)

    invites: Mapped[list[Invite]] = relationship(
        back_populates="child", cascade="all, delete-orphan", passive_deletes=True
    )
    sessions: Mapped[list[ConversationSession]] = relationship(
        back_populates="child", cascade="all, delete-orphan", passive_deletes=True
    )
    wishes: Mapped[list[Wish]] = relationship(
        back_populates="child",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Wish.id",
    )


class Invite(Base):
    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a keyed hash of the code is stored; the code itself is shown once.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    child: Mapped[Child] = relationship(back_populates="invites")


class ConversationSession(Base):
    """A chat linked to a child: one row per (channel, sender) that redeemed an invite."""

    __tablename__ = "conversation_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"))
    # Keyed hash of Rasa's sender id: the link can be looked up, not read back.
    sender_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    child: Mapped[Child] = relationship(back_populates="sessions")


class ChatGeneration(Base):
    """Which session of a channel chat is in use (bot/telegram): a chat linked to one
    child that receives another child's code moves on to a new generation, and so to
    a new pseudonymous sender id, instead of moving the old conversation.

    `chat_hash` is a keyed hash of the chat id; `highest` the last generation handed out.
    """

    __tablename__ = "chat_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_hash: Mapped[str] = mapped_column(String(64), unique=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    highest: Mapped[int] = mapped_column(Integer, default=0)


class SummaryItem:
    """Columns of everything the child tells in the interview and sees in the summary.

    `shared` is the child's choice for this one item: None until asked (and then never
    shared), True to share it with the caseworker, False to keep it private.
    `replaced_at` is set when the child redoes the topic; such rows stay for the record
    of what was already shared but are no longer shown as current.
    """

    shared: Mapped[bool | None] = mapped_column(Boolean)
    share_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @declared_attr
    def shared_summary_id(cls) -> Mapped[int | None]:
        """The outbox entry that carried this item to the caseworker."""
        return mapped_column(ForeignKey("shared_summary.id", ondelete="SET NULL"))


class Wish(SummaryItem, Base):
    __tablename__ = "wish"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_session.id", ondelete="SET NULL")
    )
    topic: Mapped[str] = mapped_column(String(20), default="algemeen")
    text: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    child: Mapped[Child] = relationship(back_populates="wishes")


class Person(SummaryItem, Base):
    """Someone important to the child (the network circle): who, how close, how often
    they see each other now, and whether the child wants more, the same or less contact."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_session.id", ondelete="SET NULL")
    )
    # As the child wrote it ("broertje Daan"), the name on its own, and the role word
    # normalised ("broer"; see bot/people.py). All of it is personal data (a role
    # tells who is in the child's life, a ring and a contact wish how they feel about
    # them), so all of it is encrypted.
    label: Mapped[str] = mapped_column(EncryptedText())
    name: Mapped[str | None] = mapped_column(EncryptedText())
    role: Mapped[str | None] = mapped_column(EncryptedText())
    # 1 = inner ring (very close), 2 = middle, 3 = outer; None = skipped.
    ring: Mapped[int | None] = mapped_column(EncryptedInt())
    # daily | weekly | monthly | rarely | never
    frequency: Mapped[str | None] = mapped_column(EncryptedText())
    # more | same | less
    contact_wish: Mapped[str | None] = mapped_column(EncryptedText())
    # Brothers and sisters (issue 11): placed together with the child or not, and where
    # the sibling lives when not.
    placed_together: Mapped[bool | None] = mapped_column(EncryptedBool())
    lives_where: Mapped[str | None] = mapped_column(EncryptedText())
    # "Wie mis je?": someone the child lost contact with.
    missed: Mapped[bool | None] = mapped_column(EncryptedBool())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrustedPerson(SummaryItem, Base):
    """Whether the child has someone they trust, who, whether that person knows, and
    whether the child wants help finding someone. None means skipped or not sure."""

    __tablename__ = "trusted_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_session.id", ondelete="SET NULL")
    )
    # The answers are as telling as the name: all encrypted.
    has_someone: Mapped[bool | None] = mapped_column(EncryptedBool())
    who: Mapped[str | None] = mapped_column(EncryptedText())
    person_knows: Mapped[bool | None] = mapped_column(EncryptedBool())
    wants_help: Mapped[bool | None] = mapped_column(EncryptedBool())
    # The child wants this person involved; passed on only with the child's yes.
    wants_involved: Mapped[bool | None] = mapped_column(EncryptedBool())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Answer(SummaryItem, Base):
    """A free answer to one of the interview's open questions.

    topic: own_say (what the child wants to decide or have a say in), keep_same and
    changed (continuity), message (what the caseworker should know), update (what
    changed since last time, asked of a returning child).
    """

    __tablename__ = "interview_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_session.id", ondelete="SET NULL")
    )
    topic: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SharedSummary(Base):
    """The outbox: a summary the child agreed to share, waiting for the caseworker."""

    __tablename__ = "shared_summary"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseworkerInvite(Base):
    """A code with which a caseworker links their own Telegram chat for notifications."""

    __tablename__ = "caseworker_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("caseworker.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Alert(Base):
    """An urgent safeguarding alert: danger, abuse, neglect or self-harm signalled in a chat.

    Carries what is needed to act (who, when, which kind) and at most a short excerpt
    of the child's words, encrypted.
    """

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int | None] = mapped_column(
        ForeignKey("child.id", ondelete="SET NULL"), index=True
    )
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    # For alarms from chats that are not linked yet: the keyed hash of the sender.
    sender_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    # Special-category data (what kind of danger): encrypted like the excerpt.
    category: Mapped[str] = mapped_column(EncryptedText())
    excerpt: Mapped[str | None] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(254))


class WebSession(Base):
    """A web chat on one device (bot/web): the cookie's token as a keyed hash, the chat it
    linked to, and a short transcript (encrypted) so that a reload shows the conversation.

    Deleted with the conversation (and so with the child), and after a long idle time.
    """

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_session.id", ondelete="CASCADE"), index=True
    )
    # JSON list of {"from": "bot"|"child", "text": ..., "buttons": [...]}.
    transcript: Mapped[str] = mapped_column(EncryptedText())
    # A typed message Rasa could not take yet; put back in the input box on reload.
    pending_text: Mapped[str | None] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PendingMessage(Base):
    """A chat message Rasa could not take yet (Rasa or the action server was down).

    Kept in order and handed to Rasa when it is back (bot/telegram). The sender is the
    pseudonymous Rasa sender id; where to answer and what was said are encrypted.
    """

    __tablename__ = "pending_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(80), index=True)
    chat: Mapped[str] = mapped_column(EncryptedText())
    text: Mapped[str] = mapped_column(EncryptedText())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LinkAttempt(Base):
    """A failed `/start CODE` (unknown, expired or used code), counted per chat (and
    per Telegram user or IP address, `kind` "subject") and in total so that invite
    codes cannot be guessed (bot/privacy/link_limits.py). Rows older than the longest
    back-off are deleted by the retention job."""

    __tablename__ = "link_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The keyed hash of the chat's sender, or of the extra subject.
    sender_hash: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="chat", server_default="chat")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
