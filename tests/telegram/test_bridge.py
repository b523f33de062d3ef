"""The bridge's delivery rules, with a stand-in for Rasa and for the Bot: what is kept,
in which order it is handed over, when a message is given up, how sending is retried.
(With the real Rasa and a fake Bot API server: test_e2e.py and test_rasa_down.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.gateway import BotMessage, RasaRejected, RasaUnavailable
from bot.settings import Settings
from bot.telegram import pending
from bot.telegram.bridge import Bridge
from bot.telegram.rasa import sender_for_chat
from bot.telegram.texts import DomainResponses

CHAT = 918273645
RESPONSES = DomainResponses({"utter_busy": [{"text": "even bezig"}]})


class StandInRasa:
    def __init__(self) -> None:
        self.failure: Exception | None = None
        self.received: list[tuple[str, str]] = []

    async def send(self, sender: str, text: str,
                   metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        if self.failure is not None:
            raise self.failure
        self.received.append((sender, text))
        return [BotMessage(f"antwoord op {text}")]

    async def close(self) -> None:
        pass


class RecordingBot:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.failures: list[Exception] = []

    async def send_message(self, chat_id: int, text: str, reply_markup: object = None) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((chat_id, text))


@pytest.fixture(params=["kept chats in memory", "kept chats from the database"])
async def parts(request: pytest.FixtureRequest, settings: Settings, sqlite_engine):  # type: ignore[no-untyped-def]
    rasa = StandInRasa()
    sessions: sessionmaker[Session] = sessionmaker(sqlite_engine)
    bridge = Bridge(settings, sessions=sessions, rasa=rasa,  # type: ignore[arg-type]
                    responses=RESPONSES)
    if request.param == "kept chats in memory":
        await bridge.load_waiting()  # as post_init does
    return bridge, rasa, RecordingBot()


async def test_kept_while_down_then_answered_in_order(parts):  # type: ignore[no-untyped-def]
    bridge, rasa, bot = parts
    rasa.failure = RasaUnavailable("down")
    await bridge.forward(bot, CHAT, "een")
    await bridge.forward(bot, CHAT, "twee")
    # One "busy" per outage, not one per message.
    assert bot.sent == [(CHAT, "even bezig")]
    assert bridge.rasa_down
    assert await bridge.drain(bot) == 0  # still down: nothing lost, nothing handed over
    rasa.failure = None
    # While messages wait, a new one queues behind them even though Rasa is back.
    await bridge.forward(bot, CHAT, "drie")
    assert rasa.received == []
    assert await bridge.drain(bot) == 3
    sender = sender_for_chat(bridge.settings.pseudonym_secret, CHAT)
    assert rasa.received == [(sender, "een"), (sender, "twee"), (sender, "drie")]
    assert bot.sent[1:] == [(CHAT, "antwoord op een"), (CHAT, "antwoord op twee"),
                            (CHAT, "antwoord op drie")]
    assert not bridge.rasa_down
    await bridge.forward(bot, CHAT, "vier")
    assert bot.sent[-1] == (CHAT, "antwoord op vier")


async def test_a_message_rasa_keeps_refusing_is_given_up(parts):  # type: ignore[no-untyped-def]
    bridge, rasa, bot = parts
    # TELEGRAM_RASA_ATTEMPTS: offered to Rasa twice after it was kept, then given up.
    bridge.settings = bridge.settings.model_copy(update={"telegram_rasa_attempts": 2})
    rasa.failure = RasaRejected("500")
    await bridge.forward(bot, CHAT, "kapot")
    assert not bridge.rasa_down  # Rasa runs; it is this message
    with bridge.sessions.begin() as session:
        assert pending.count(session=session) == 1
    await bridge.drain(bot)
    with bridge.sessions.begin() as session:
        assert pending.count(session=session) == 1
    await bridge.drain(bot)
    with bridge.sessions.begin() as session:
        assert pending.count(session=session) == 0
    rasa.failure = None
    await bridge.forward(bot, CHAT, "weer goed")
    assert bot.sent[-1] == (CHAT, "antwoord op weer goed")


async def test_sending_is_retried_after_network_errors_and_retry_after(
    parts, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
):
    bridge, _, bot = parts
    bridge.settings = bridge.settings.model_copy(
        update={"telegram_send_retry_delays": (0.0, 0.0, 0.0, 0.0)})
    bot.failures = [NetworkError("reset"), RetryAfter(1)]
    await bridge.reply(bot, CHAT, [BotMessage("hallo")])
    assert bot.sent == [(CHAT, "hallo")]
    # A reply Telegram refuses outright (400) is not retried; the next one still goes.
    bot.failures = [BadRequest("message is too long")]
    await bridge.reply(bot, CHAT, [BotMessage("geweigerd"), BotMessage("wel")])
    assert bot.sent == [(CHAT, "hallo"), (CHAT, "wel")]
    # A chat that blocked the bot gets nothing more.
    bot.failures = [Forbidden("bot was blocked by the user")]
    await bridge.reply(bot, CHAT, [BotMessage("een"), BotMessage("twee")])
    assert bot.sent == [(CHAT, "hallo"), (CHAT, "wel")]


async def test_messages_kept_before_a_restart_still_go_first(parts):  # type: ignore[no-untyped-def]
    bridge, rasa, bot = parts
    sender = sender_for_chat(bridge.settings.pseudonym_secret, CHAT)
    with bridge.sessions.begin() as session:  # left by the previous bridge process
        pending.add(session=session, sender=sender, chat_id=CHAT, text="van gisteren")
    restarted = Bridge(bridge.settings, sessions=bridge.sessions, rasa=rasa,
                       responses=RESPONSES)
    await restarted.load_waiting()
    await restarted.forward(bot, CHAT, "van vandaag")
    assert rasa.received == []
    assert await restarted.drain(bot) == 2
    assert rasa.received == [(sender, "van gisteren"), (sender, "van vandaag")]
