"""The handlers of the Telegram bridge and the delivery of messages to Rasa.

Every message goes to Rasa's REST channel as the chat's pseudonymous sender id; Rasa's
answers are rendered back (bot.telegram.render). When Rasa or the action server is
down, the message is kept in the database (bot.telegram.pending), the child hears
`utter_busy`, and a repeating job hands the kept messages to Rasa, in order, once it
is back. Messages of one chat never overtake each other: a lock per chat covers
"kept messages first, then this one".

Logs carry the first characters of the pseudonymous sender, never a Telegram id, a
name or what the child wrote.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, BotCommand, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import invites
from bot.chat_commands import LINK_INTENT, parse_command
from bot.gateway import BotMessage, RasaGateway, RasaRejected, RasaUnavailable
from bot.notify import templates
from bot.privacy import link_limits
from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import loop, repo
from bot.storage.models import ConversationSession, utcnow
from bot.telegram import caseworkers, pending
from bot.telegram.dedupe import recent_updates
from bot.telegram.rasa import chat_hash, sender_for_chat
from bot.telegram.render import Reply, chosen_title, keyboard, render
from bot.telegram.texts import DomainResponses

log = logging.getLogger("mijnstem.telegram")

# What the bridge sends Rasa for messages it cannot pass on as text (see
# data/rules/telegram.yml): Rasa answers from the domain in the child's age band.
MEDIA_MESSAGE = "/media_unsupported"
EDITED_MESSAGE = "/message_edited"

# How often a kept message is offered to Rasa (TELEGRAM_RASA_ATTEMPTS) and the waits
# before a reply is sent again (TELEGRAM_SEND_RETRY_DELAYS) are settings (bot/settings.py).
# Say "ik ben even bezig" at most this often per chat while Rasa is down.
BUSY_INTERVAL = 60.0
# Earlier sessions of a chat that a child's own code can lead back to.
MAX_GENERATIONS = 20

CASEWORKER_TEMPLATES = {
    caseworkers.LinkOutcome.LINKED: "notify/caseworker_linked.txt",
    caseworkers.LinkOutcome.EXPIRED: "notify/caseworker_code_expired.txt",
    caseworkers.LinkOutcome.USED: "notify/caseworker_code_used.txt",
}

T = TypeVar("T")


# The chat's command menu: command -> the domain response that describes it.
MENU = (("gevoel", "utter_menu_gevoel"),)


def short(sender: str) -> str:
    return sender[:11] + "…"


class Sent(enum.Enum):
    """What became of a message sent to a chat."""

    OK = "ok"  # sent, or refused for itself alone (BadRequest): the next may go on
    BLOCKED = "blocked"  # the chat has blocked the bot: nothing more reaches it
    FAILED = "failed"  # Telegram or the network kept failing: worth trying later


class Bridge:
    def __init__(
        self,
        settings: Settings,
        *,
        sessions: sessionmaker[Session],
        rasa: RasaGateway,
        responses: DomainResponses,
        busy_interval: float = BUSY_INTERVAL,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.rasa = rasa
        self.responses = responses
        self.recent = recent_updates(settings.redis_url)
        self.busy_interval = busy_interval
        self.rasa_down = False
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._busy_said: dict[str, float] = {}
        # Chat id -> its current generation (bot.storage.repo.plan_link); the bridge is
        # the only writer, so this saves a query per message.
        self._generations: OrderedDict[int, int] = OrderedDict()
        self.max_chats = settings.telegram_max_chats_in_memory
        self._draining = False
        # Chats whose Telegram chat id is stored with their conversation (so the team's
        # answers can reach them at once); checked once per chat per process.
        self._addressed: set[str] = set()
        # Chats with kept messages. The one bridge process is the only writer, so after
        # `load_waiting` this set saves a query per message; None: ask the database.
        self._waiting: set[str] | None = None

    async def load_waiting(self) -> None:
        """At start-up (post_init): which chats have messages kept from before."""
        try:
            self._waiting = set(await self._db(pending.senders))
        except SQLAlchemyError as exc:
            log.error("kept messages cannot be read: %s", type(exc).__name__)

    async def set_menu(self, bot: Bot) -> None:
        """At start-up: the chat's command menu offers "/gevoel" (issue 11: how I feel,
        any time), described from the domain. A refusal only costs the menu entry."""
        try:
            await bot.set_my_commands(
                [BotCommand(command, self.responses.text(response))
                 for command, response in MENU]
            )
        except TelegramError as exc:
            log.warning("command menu not set: %s", type(exc).__name__)

    # --- handlers (wired in bot.telegram.app.build_application) -----------------------

    async def drop_repeated(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Group -1: an update seen before stops here."""
        if not self.recent.first_time(update.update_id):
            log.info("update %s was delivered again: not answered twice", update.update_id)
            raise ApplicationHandlerStop

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/start CODE`, also from a t.me deep link. A caseworker's code links their
        chat for notifications; any other code is a child's and goes to Rasa."""
        message, chat_id = _message_and_chat(update)
        if message is None or chat_id is None:
            return
        code = " ".join(context.args or [])
        if code and await self._caseworker_code(context.bot, chat_id, code):
            return
        text = message.text or "/start"
        if await self._before_link(context.bot, chat_id, text):
            return
        await self.forward(context.bot, chat_id, text)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text, and the commands /stop, /help, /privacy: Rasa knows them all."""
        message, chat_id = _message_and_chat(update)
        if message is None or chat_id is None or not message.text:
            return
        if await self._before_link(context.bot, chat_id, message.text):
            return
        await self.forward(context.bot, chat_id, message.text)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, voice notes, photos, videos, locations, contacts, files..."""
        _, chat_id = _message_and_chat(update)
        if chat_id is not None:
            await self.forward(context.bot, chat_id, MEDIA_MESSAGE)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edit is not read as a new answer (it could store a wish twice, or answer
        a question that was already passed); the child is asked to send it again."""
        _, chat_id = _message_and_chat(update)
        if chat_id is not None:
            await self.forward(context.bot, chat_id, EDITED_MESSAGE)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button: its payload goes to Rasa as if typed."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None:
            return
        try:
            await query.answer()  # stops the spinner on the button
        except TelegramError as exc:
            log.info("callback query not answered: %s", exc)
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        data = query.data
        markup = query.message.reply_markup if isinstance(query.message, Message) else None
        title = chosen_title(markup, data)
        await self._close_keyboard(query.message, title)
        # PTB's callback data cache (arbitrary_callback_data) gives the payload back;
        # a keyboard sent before a restart is no longer known, and then the title the
        # child pressed says the same thing in words.
        text = data if isinstance(data, str) and data else title
        if text:
            await self.forward(context.bot, chat.id, text)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Not the update itself: it holds the child's words and Telegram ids.
        kind = type(update).__name__ if update is not None else "no update"
        log.error("error while handling an update (%s)", kind, exc_info=context.error)

    async def retry_pending(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Repeating job: hand kept messages to Rasa once it is back."""
        await self.drain(context.bot)

    # --- delivery ---------------------------------------------------------------------

    async def forward(self, bot: Bot, chat_id: int, text: str) -> None:
        """Pass one message to Rasa and send the answers; keep it if Rasa cannot take it."""
        sender = await self._sender(chat_id)
        self._forget_idle_chats()
        async with self._locks[sender]:
            if self.rasa_down or await self._has_pending(sender):
                # Earlier messages of this chat wait: this one goes behind them.
                await self._keep(bot, sender, chat_id, text)
                return
            started = time.monotonic()
            try:
                answers = await self.rasa.send(sender, text, metadata={
                    # Failed invite codes are counted per Telegram user too.
                    link_limits.METADATA_KEY: link_limits.subject_for_telegram_user(
                        self.settings.pseudonym_secret, chat_id),
                })
            except (RasaUnavailable, RasaRejected) as exc:
                log.warning("Rasa cannot take a message of %s now: %s", short(sender), exc)
                if isinstance(exc, RasaUnavailable):
                    self.rasa_down = True
                await self._keep(bot, sender, chat_id, text)
                return
            log.debug("%s: %d answers in %.0f ms", short(sender), len(answers),
                      (time.monotonic() - started) * 1000)
            await self.reply(bot, chat_id, answers)
            if sender not in self._addressed:
                await self._remember_address(sender, chat_id)

    async def _remember_address(self, sender: str, chat_id: int) -> None:
        """Store the chat id (encrypted) with a linked conversation, so that answers
        from the team can be sent at once (deliver_followups)."""
        secret = self.settings.pseudonym_secret

        def remember(*, session: Session) -> bool:
            conversation = repo.find_conversation(
                session=session, sender_hash=sender_hash(secret, sender)
            )
            if conversation is None:
                return False
            loop.set_chat_address(session=session, conversation=conversation,
                                  address=str(chat_id))
            return True

        try:
            if await self._db(remember):
                self._addressed.add(sender)
        except SQLAlchemyError as exc:
            log.error("chat address not stored: %s", type(exc).__name__)

    async def deliver_followups(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Repeating job: the team's answers go to Telegram chats at once."""
        await self.deliver_waiting(context.bot)

    async def deliver_waiting(self, bot: Bot) -> int:
        """Send waiting answers to every Telegram chat that has some. Returns how many
        chats got answers."""

        def chats(*, session: Session) -> list[tuple[int, str, str]]:
            found = loop.sessions_with_pending(session=session, channel="tg")
            return [(c.id, c.sender_hash, c.chat_address) for c in found if c.chat_address]

        def forget_address(*, session: Session, conversation_id: int) -> None:
            conversation = session.get(ConversationSession, conversation_id)
            if conversation is not None:
                conversation.chat_address = None

        delivered = 0
        for conversation_id, hashed, address in await self._rows(chats, "waiting answers"):
            chat = await self._chat(address, hashed)
            if chat is None:
                continue
            chat_id, sender = chat
            if sender is None:
                # The chat has since started a session for another child's code: that
                # conversation is no longer reachable here.
                await self._db(forget_address, conversation_id=conversation_id)
                continue
            async with self._locks[sender]:
                answers = await self.rasa.deliver(sender)
                if answers:
                    await self.reply(bot, chat_id, answers)
                    delivered += 1
        return delivered

    async def invite_checkins(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Repeating job: on a check-in's day, invite the child (issue 11)."""
        await self.send_checkin_invites(context.bot)

    async def send_checkin_invites(self, bot: Bot, today: date | None = None) -> int:
        """Invite each linked Telegram child whose check-in is due, once: the invitation
        is claimed in the database before it is sent, so neither a second bridge nor a
        restart sends it again. The words name no meeting subject (a phone screen may be
        seen by others). Returns how many were sent."""
        day = today or utcnow().date()

        def due(*, session: Session) -> list[tuple[int, str, str, str | None]]:
            found = loop.checkins_to_invite(session=session, channel="tg", today=day)
            return [(c.id, conv.sender_hash, conv.chat_address or "",
                     conv.child.current_age_group) for c, conv in found]

        def claim(*, session: Session, checkin_id: int) -> bool:
            return loop.mark_invited(session=session, checkin_id=checkin_id)

        def unclaim(*, session: Session, checkin_id: int) -> None:
            loop.unmark_invited(session=session, checkin_id=checkin_id)

        sent = 0
        for checkin_id, hashed, address, age_group in await self._rows(due, "check-ins"):
            chat = await self._chat(address, hashed)
            if chat is None or chat[1] is None:
                continue  # not a chat id, or the chat now belongs to another child's code
            chat_id, sender = chat[0], chat[1]
            try:
                if not await self._db(claim, checkin_id=checkin_id):
                    continue
            except SQLAlchemyError as exc:
                log.error("check-in invitation not claimed: %s", type(exc).__name__)
                continue
            async with self._locks[sender]:
                outcome = await self.reply(
                    bot, chat_id, [self.responses.message("utter_checkin_invite", age_group)])
            if outcome is Sent.FAILED:
                # Not lost: given back, so the next run of the job sends it (after the
                # back-off of `_send` has run out for this one).
                try:
                    await self._db(unclaim, checkin_id=checkin_id)
                except SQLAlchemyError as exc:
                    log.error("check-in invitation not given back: %s", type(exc).__name__)
                continue
            sent += 1
        return sent

    async def _rows(self, query: Callable[..., list[T]], what: str) -> list[T]:
        """What a repeating job works through; nothing (logged) when it cannot be read."""
        try:
            return await self._db(query)
        except SQLAlchemyError as exc:
            log.error("%s cannot be read: %s", what, type(exc).__name__)
            return []

    async def _chat(self, address: str, hashed: str) -> tuple[int, str | None] | None:
        """A stored chat address as (chat id, the chat's current sender), with None for
        the sender when the chat's current session is no longer the conversation
        `hashed` (another child's code was used there since). None when the address is
        not a chat id."""
        try:
            chat_id = int(address)
        except ValueError:
            return None
        sender = await self._sender(chat_id)
        current = sender_hash(self.settings.pseudonym_secret, sender) == hashed
        return chat_id, sender if current else None

    async def drain(self, bot: Bot) -> int:
        """Hand kept messages to Rasa, oldest chat first, each chat in order.
        Returns how many were handed over."""
        if self._draining:
            return 0
        self._draining = True
        try:
            return await self._drain(bot)
        finally:
            self._draining = False

    async def _drain(self, bot: Bot) -> int:
        try:
            senders = await self._db(pending.senders)
        except SQLAlchemyError as exc:
            log.error("kept messages cannot be read: %s", type(exc).__name__)
            return 0
        if not senders:
            self.rasa_down = False
            return 0
        handed = 0
        for sender in senders:
            async with self._locks[sender]:
                while True:
                    item = await self._db(pending.oldest, sender=sender)
                    if item is None:
                        if self._waiting is not None:
                            self._waiting.discard(sender)
                        break
                    try:
                        answers = await self.rasa.send(sender, item.text)
                    except RasaUnavailable:
                        self.rasa_down = True
                        return handed
                    except RasaRejected as exc:
                        attempts = await self._db(pending.count_failure, message_id=item.id)
                        if attempts < self.settings.telegram_rasa_attempts:
                            log.warning("kept message of %s refused (%s); trying again later",
                                        short(sender), exc)
                            break
                        log.error("kept message of %s refused %d times: given up",
                                  short(sender), attempts)
                        await self._db(pending.remove, message_id=item.id)
                        continue
                    # Rasa has it now: never hand it over twice, even if Telegram fails.
                    await self._db(pending.remove, message_id=item.id)
                    self.rasa_down = False
                    handed += 1
                    await self.reply(bot, item.chat_id, answers)
        if handed:
            log.info("%d kept messages handed to Rasa", handed)
        return handed

    async def reply(self, bot: Bot, chat_id: int, answers: list[BotMessage]) -> Sent:
        """Send the answers in order; stops at the first that cannot reach the chat."""
        for item in render(answers):
            outcome = await self._send(bot, chat_id, item)
            if outcome is not Sent.OK:
                return outcome
        return Sent.OK

    async def _send(self, bot: Bot, chat_id: int, item: Reply) -> Sent:
        """Send one message. RetryAfter is honoured by the AIORateLimiter; what gets past
        it, and network errors, are retried here, so a reply is not lost to a hiccup.
        Not OK when the rest of the replies cannot reach the chat either."""
        markup = keyboard(item.buttons)
        delays = self.settings.telegram_send_retry_delays
        for delay in (*delays, None):
            try:
                if item.photo:
                    await self._send_photo(bot, chat_id, item)
                else:
                    await bot.send_message(chat_id, item.text or "", reply_markup=markup)
                return Sent.OK
            except Forbidden:
                log.info("chat has blocked the bot: reply not sent")
                return Sent.BLOCKED
            except BadRequest as exc:  # this message only; the next may be fine
                log.warning("Telegram refused a reply: %s", exc.message)
                return Sent.OK
            except (RetryAfter, NetworkError) as exc:
                if delay is None:
                    log.error("reply not sent after %d tries: %s", len(delays) + 1,
                              type(exc).__name__)
                    return Sent.FAILED
                log.warning("reply not sent yet (%s); trying again in %.0f s",
                            type(exc).__name__, delay)
                await asyncio.sleep(delay)
        return Sent.FAILED

    async def _send_photo(self, bot: Bot, chat_id: int, item: Reply) -> None:
        markup = keyboard(item.buttons)
        try:
            await bot.send_photo(chat_id, item.photo or "", caption=item.text, reply_markup=markup)
        except BadRequest as exc:
            # An image Telegram cannot fetch: the words still reach the child.
            log.warning("photo refused (%s); sending its text only", exc.message)
            if item.text or markup:
                await bot.send_message(chat_id, item.text or "👇", reply_markup=markup)

    async def _close_keyboard(self, message: object, title: str | None) -> None:
        """Remove the keyboard that was answered and show what the child chose."""
        if not isinstance(message, Message):
            return
        try:
            if message.text and title:
                await message.edit_text(f"{message.text}\n\n👉 {title}", reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except TelegramError as exc:  # too old, or already edited: the answer still counts
            log.info("keyboard not removed: %s", exc)

    async def _keep(self, bot: Bot, sender: str, chat_id: int, text: str) -> None:
        try:
            await self._db(pending.add, sender=sender, chat_id=chat_id, text=text,
                           per_chat=self.settings.telegram_pending_per_chat,
                           total=self.settings.telegram_pending_total)
            if self._waiting is not None:
                self._waiting.add(sender)
            log.info("message of %s kept until Rasa is back", short(sender))
        except pending.QueueFull as exc:
            log.warning("message of %s not kept: %s", short(sender), exc)
        except SQLAlchemyError as exc:
            log.error("message of %s could not be kept: %s", short(sender), type(exc).__name__)
        now = time.monotonic()
        if now - self._busy_said.get(sender, -math.inf) >= self.busy_interval:
            self._busy_said[sender] = now
            busy = self.responses.text("utter_busy", await self._age_group(sender))
            await self._send(bot, chat_id, Reply(text=busy))

    async def _has_pending(self, sender: str) -> bool:
        if self._waiting is not None:
            return sender in self._waiting
        try:
            return await self._db(pending.has_pending, sender=sender)
        except SQLAlchemyError as exc:
            log.error("kept messages cannot be read: %s", type(exc).__name__)
            return False

    async def _age_group(self, sender: str) -> str | None:
        """The child's age band, so that utter_busy fits them (None when unknown)."""

        def lookup(*, session: Session) -> str | None:
            conversation = repo.find_conversation(
                session=session, sender_hash=sender_hash(self.settings.pseudonym_secret, sender)
            )
            return conversation.child.current_age_group if conversation is not None else None

        try:
            return await self._db(lookup)
        except SQLAlchemyError:
            return None

    # --- sessions of a chat -----------------------------------------------------------

    async def _sender(self, chat_id: int) -> str:
        """Rasa's sender id for the chat's current session."""
        generation = self._generations.get(chat_id)
        if generation is None:
            try:
                generation = await self._db(
                    repo.current_generation,
                    chat_hash=chat_hash(self.settings.pseudonym_secret, chat_id))
            except SQLAlchemyError as exc:
                # Unknown for now: the first session; not remembered, asked again.
                log.error("chat session cannot be read: %s", type(exc).__name__)
                return sender_for_chat(self.settings.pseudonym_secret, chat_id)
            self._remember_generation(chat_id, generation)
        return sender_for_chat(self.settings.pseudonym_secret, chat_id, generation)

    def _remember_generation(self, chat_id: int, generation: int) -> None:
        self._generations[chat_id] = generation
        self._generations.move_to_end(chat_id)
        while len(self._generations) > self.max_chats:
            self._generations.popitem(last=False)

    async def _before_link(self, bot: Bot, chat_id: int, text: str) -> bool:
        """An invite code (`/start CODE` or a bare code): choose the session it belongs
        in before Rasa sees it. Another child's valid code in a linked chat starts a
        fresh session (a new generation, so a new sender id): child B never sees A's
        conversation, and A's words are never stored as B's. A child under
        `telegram_min_age` is refused kindly and offered the web chat. True when the
        message has been answered here."""
        parsed = parse_command(text)
        if parsed is None or parsed[0] != LINK_INTENT or not parsed[1]:
            return False
        code = parsed[1]
        secret = self.settings.pseudonym_secret
        key = chat_hash(secret, chat_id)

        def plan(*, session: Session) -> tuple[repo.LinkPlan, int]:
            gens = repo.generations(session=session, chat_hash=key)[:MAX_GENERATIONS]
            hashes = [sender_hash(secret, sender_for_chat(secret, chat_id, g)) for g in gens]
            chosen = repo.plan_link(session=session, code_hash=invites.code_hash(secret, code),
                                    sender_hashes=hashes, min_age=self.settings.telegram_min_age)
            if chosen.too_young:
                return chosen, gens[0]
            if chosen.fresh:
                return chosen, repo.next_generation(session=session, chat_hash=key)
            generation = gens[chosen.index or 0]
            if generation != gens[0]:
                repo.set_generation(session=session, chat_hash=key, generation=generation)
            return chosen, generation

        try:
            chosen, generation = await self._db(plan)
        except SQLAlchemyError as exc:
            # The action checks again and never moves a linked chat.
            log.error("invite code cannot be checked here: %s", type(exc).__name__)
            return False
        self._remember_generation(chat_id, generation)
        if chosen.fresh:
            log.info("another child's code: chat moves on to a fresh session")
        if not chosen.too_young:
            return False
        url = f"{self.settings.public_web_url.rstrip('/')}/chat?code={invites.normalise(code)}"
        answer = self.responses.text("utter_link_telegram_too_young", chosen.age_group)
        await self._send(bot, chat_id, Reply(text=answer.replace("{web_chat_url}", url)))
        return True

    def _forget_idle_chats(self) -> None:
        """Per-chat state in memory stays bounded: idle chats are forgotten."""
        if len(self._locks) > self.max_chats:
            for sender in [s for s, lock in self._locks.items() if not lock.locked()]:
                del self._locks[sender]
                if len(self._locks) <= self.max_chats // 2:
                    break
        if len(self._busy_said) > self.max_chats:
            cutoff = time.monotonic() - self.busy_interval
            self._busy_said = {s: t for s, t in self._busy_said.items() if t > cutoff}

    async def _caseworker_code(self, bot: Bot, chat_id: int, code: str) -> bool:
        """True when the code was a caseworker's (and has been answered here)."""
        try:
            result = await self._db(
                caseworkers.link_chat,
                secret=self.settings.pseudonym_secret, code=code, chat_id=chat_id,
            )
        except SQLAlchemyError as exc:
            log.error("caseworker codes cannot be checked: %s", type(exc).__name__)
            return False
        template = CASEWORKER_TEMPLATES.get(result.outcome)
        if template is None:
            return False
        log.info("caseworker code: %s", result.outcome.value)
        await self._send(bot, chat_id, Reply(text=templates.render(
            template, caseworker_name=result.caseworker_name or "")))
        return True

    async def _db(self, fn: Callable[..., T], **kwargs: Any) -> T:
        """Run a repository function in its own transaction, off the event loop."""

        def run() -> T:
            with self.sessions.begin() as session:
                return fn(session=session, **kwargs)

        return await asyncio.to_thread(run)


def _message_and_chat(update: Update) -> tuple[Message | None, int | None]:
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or chat.type != ChatType.PRIVATE:
        return None, None
    return message, chat.id
