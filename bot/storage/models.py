"""Database models. Free text (names, answers, summaries) is encrypted at rest."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
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
    # Portal account (bot/accounts.py): caseworker | teamlead | admin, within a team.
    role: Mapped[str] = mapped_column(String(12), default="caseworker", server_default="caseworker")
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    # argon2id hash (argon2-cffi); None until a password is set.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Base32 TOTP secret (pyotp), encrypted; set once enrolment is confirmed.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText())
    # The TOTP time step (30-second counter) of the last code accepted: a code is
    # accepted once, never again within its window (bot/accounts.py, accept_totp).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    @property
    def first_name(self) -> str:
        """How answers to a child are signed ("Sanne", from "Sanne de Vries")."""
        return self.name.split()[0] if self.name.strip() else self.name

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
    # The team whose inbox gets the child's items while no caseworker is assigned.
    team: Mapped[str | None] = mapped_column(String(100), index=True)
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
    # Where the channel can reach the chat unasked (the Telegram chat id), encrypted;
    # recorded by the Telegram bridge so that answers reach the child at once.
    chat_address: Mapped[str | None] = mapped_column(EncryptedText())

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
    # The keyed hash of Rasa's sender id (as in conversation_session), so that the
    # transcript of a chat that never linked to a child is found by an export or a
    # "vergeet mij" of that chat (bot/privacy/erase.py matches `sender_hash`).
    sender_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # The random seed of the sender id (encrypted). It is not the cookie's token, so the
    # cookie can be rotated while the conversation with Rasa goes on. Rows made before
    # this column derive the sender from their first token, kept here on rotation.
    sender_key: Mapped[str | None] = mapped_column(EncryptedText())
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


# --- the answer loop (issue 8): caseworkers answer, the child hears back ---------------

FOLLOW_UP_STATUSES = ("nieuw", "gelezen", "besproken", "mee_bezig", "gedaan", "kan_niet")


class ChildMessage(Base):
    """Something the child wrote to their caseworker: a message at any time
    (kind "message") or a reaction to an answer (kind "reaction", with `reaction`
    thanks | disagree | own_words and the reply it reacts to). The words are encrypted.
    `read_at`/`read_by_id` are the caseworker's read marker."""

    __tablename__ = "child_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_session.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(10))
    reaction: Mapped[str | None] = mapped_column(String(12))
    # The FollowUpReply reacted to. No foreign key: follow_up already points here, and
    # a cycle of keys cannot be created in order; both go with the child.
    reply_id: Mapped[int | None] = mapped_column(Integer, index=True)
    text: Mapped[str | None] = mapped_column(EncryptedText())
    channel: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("caseworker.id", ondelete="SET NULL"))
    # "How I feel" (kind "feeling", actions/feeling.py): the emoji's name (blij, bang...),
    # encrypted like the words; `text` is the child's "why", if they gave one.
    feeling: Mapped[str | None] = mapped_column(EncryptedText())
    # A check-in's answer (kind "checkin"): which check-in, and which question
    # (`part`: "changed" or "discuss"). No foreign key, like reply_id; both go with
    # the child.
    checkin_id: Mapped[int | None] = mapped_column(Integer, index=True)
    part: Mapped[str | None] = mapped_column(String(12))


class CheckIn(Base):
    """A check-in before a meeting (a care-plan evaluation): planned by a caseworker
    (`python -m bot checkin plan`), offered to the child on or after `due_on`.
    `invited_at`: the Telegram bridge sent the invitation (once). `done_at`: the child
    went through it (answers, if shared, are ChildMessage rows of kind "checkin")."""

    __tablename__ = "checkin"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    # What the meeting is about, in the caseworker's words: never shown to the child.
    about: Mapped[str | None] = mapped_column(EncryptedText())
    planned_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    child: Mapped[Child] = relationship()


class FollowUp(Base):
    """The team's answer to one thing the child shared: a wish, the interview's message
    to the caseworker (an `interview_answer` with topic "message"), or a ChildMessage.
    Exactly one of wish_id / answer_id / message_id is set.

    Deadlines are in Dutch working days from `created_at` (bot/workdays.py): open by
    `open_due`, answer by `answer_due`. `status` is the latest reply's status ("nieuw"
    until opened, "gelezen" once opened). `answered_at` is the first reply's time.
    The replies themselves (the words for the child) are FollowUpReply rows.
    """

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    wish_id: Mapped[int | None] = mapped_column(
        ForeignKey("wish.id", ondelete="CASCADE"), unique=True
    )
    answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview_answer.id", ondelete="CASCADE"), unique=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("child_message.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(12), default="nieuw")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    open_due: Mapped[datetime] = mapped_column(UTCDateTime())
    answer_due: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    # When the overdue notice / the escalation to the team lead went out (bot/loop/jobs.py).
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    child: Mapped[Child] = relationship()
    wish: Mapped[Wish | None] = relationship()
    answer: Mapped[Answer | None] = relationship()
    message: Mapped[ChildMessage | None] = relationship(foreign_keys=[message_id])
    replies: Mapped[list[FollowUpReply]] = relationship(
        back_populates="follow_up", cascade="all, delete-orphan", passive_deletes=True,
        order_by="FollowUpReply.id",
    )

    @property
    def kind(self) -> str:
        """wish | message (the interview's message or a ChildMessage)."""
        return "wish" if self.wish_id is not None else "message"


class FollowUpReply(Base):
    """One answer to the child: a status, the words for the child (encrypted; a reason
    in child words is required for "kan_niet"), who wrote it (signed with `signed_as`,
    the caseworker's first name) and when it reached the child's chat."""

    __tablename__ = "follow_up_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12))
    text: Mapped[str | None] = mapped_column(EncryptedText())
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    signed_as: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    follow_up: Mapped[FollowUp] = relationship(back_populates="replies")


class ChildAssignment(Base):
    """Who was responsible for a child and when: the history kept when a child moves to
    another caseworker. The open row (`ended_at` None) is the current one; a row with
    caseworker_id None means the child sat in the team inbox."""

    __tablename__ = "child_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    team: Mapped[str | None] = mapped_column(String(100))
    assigned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notice(Base):
    """An e-mail to send to a caseworker or team lead (bot/loop/notices.py). It never
    holds child content: only its kind; the worker renders and sends it. `key` makes
    each notice unique (e.g. "overdue:follow_up:12"), so a job can run again safely."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworker.id", ondelete="CASCADE"), index=True
    )
    # new_summary | new_message | overdue | escalation | team_inbox
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    """Who did what, when, and whether it was allowed (bot/audit.py). Never holds child
    content: `target` is a reference like "child:12", `detail` a short technical note."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # "caseworker:3" for a portal user, "cli:<os user>" for the command line, "worker",
    # "child:12" for the chat.
    actor: Mapped[str] = mapped_column(String(120))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworker.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(80))
    child_id: Mapped[int | None] = mapped_column(Integer, index=True)
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    detail: Mapped[str | None] = mapped_column(String(300))
    # portal | cli | chat | worker
    source: Mapped[str] = mapped_column(String(10), default="portal")


class PortalSession(Base):
    """A signed-in portal user on one browser (bot/portal/sessions.py). The cookie holds a
    random token; only its keyed hash is stored. `stage` is "ok" once fully signed in,
    "totp" while the second factor is still asked, "enrol" while a team lead or admin
    must first set up TOTP. `pending_totp` holds a TOTP secret during enrolment."""

    __tablename__ = "portal_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworker.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(8))
    csrf_token: Mapped[str] = mapped_column(String(64))
    pending_totp: Mapped[str | None] = mapped_column(EncryptedText())
    totp_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
