"""The check-in invitation on Telegram is not lost to a hiccup (issue 11): a 429 or a
server error is retried with the bridge's back-off (`Bridge._send`), and an invitation
that still could not be sent is given back, so the next run of the repeating job sends
it. Real SQLite, the real bridge, python-telegram-bot's real request path to the fake
Bot API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy.orm import sessionmaker
from telegram import Bot

from bot.gateway import RasaGateway
from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import loop, repo
from bot.storage.models import CheckIn, ConversationSession
from bot.telegram.bridge import Bridge
from bot.telegram.rasa import sender_for_chat
from bot.telegram.texts import DomainResponses
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI

CHAT = 515_151_616
DAY = date(2026, 12, 14)


@pytest.fixture
def api(tg_api: FakeTelegramAPI) -> FakeTelegramAPI:
    return tg_api


@pytest.fixture
async def bot(api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    # No rate limiter: what reaches the bridge is what Telegram answered.
    async with Bot(TOKEN, base_url=f"{api.base_url}/bot") as plain:
        yield plain


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"telegram_send_retry_delays": (0.01, 0.01)})


@pytest.fixture
def sessions(sqlite_engine) -> sessionmaker:  # type: ignore[no-untyped-def,type-arg]
    return sessionmaker(sqlite_engine)


@pytest.fixture
def bridge(fast_settings: Settings, sessions) -> Bridge:  # type: ignore[no-untyped-def]
    return Bridge(fast_settings, sessions=sessions,
                  rasa=RasaGateway("http://127.0.0.1:9/none"),
                  responses=DomainResponses.load())


def _checkin(sessions, settings: Settings) -> int:  # type: ignore[no-untyped-def]
    """A linked Telegram child with a check-in due on DAY."""
    secret = settings.pseudonym_secret
    with sessions.begin() as session:
        child = repo.create_child(session=session, display_name="Tess", age=16,
                                  age_group="14-18", caseworker=None)
        session.add(ConversationSession(
            child_id=child.id, channel="tg", chat_address=str(CHAT),
            sender_hash=sender_hash(secret, sender_for_chat(secret, CHAT))))
        return loop.plan_checkin(session=session, child=child, due_on=DAY).id


def _invited(sessions, checkin_id: int) -> bool:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        checkin = session.get(CheckIn, checkin_id)
        assert checkin is not None
        return checkin.invited_at is not None


async def test_a_429_then_200_still_invites_once(api, bot, bridge, sessions, fast_settings):  # type: ignore[no-untyped-def]
    checkin_id = _checkin(sessions, fast_settings)
    api.fail_next("sendMessage", retry_after=0, status=429)

    assert await bridge.send_checkin_invites(bot, today=DAY) == 1

    assert [c.status for c in api.calls_of("sendMessage")] == [429, 200]
    (invitation,) = api.messages_to(CHAT)
    assert "gesprek" in invitation["text"]
    assert _invited(sessions, checkin_id)
    # Claimed: the next run does not invite again.
    assert await bridge.send_checkin_invites(bot, today=DAY) == 0
    assert len(api.messages_to(CHAT)) == 1


async def test_a_server_error_is_retried_with_back_off(api, bot, bridge, sessions,
                                                       fast_settings):  # type: ignore[no-untyped-def]
    checkin_id = _checkin(sessions, fast_settings)
    api.fail_next("sendMessage", times=2, status=502)

    assert await bridge.send_checkin_invites(bot, today=DAY) == 1

    assert [c.status for c in api.calls_of("sendMessage")] == [502, 502, 200]
    assert len(api.messages_to(CHAT)) == 1
    assert _invited(sessions, checkin_id)


async def test_an_invitation_that_cannot_be_sent_is_sent_by_the_next_run(
    api, bot, bridge, sessions, fast_settings
):  # type: ignore[no-untyped-def]
    checkin_id = _checkin(sessions, fast_settings)
    # Every try of this run fails (one more try than there are waits).
    tries = len(fast_settings.telegram_send_retry_delays) + 1
    api.fail_next("sendMessage", times=tries, status=503)

    assert await bridge.send_checkin_invites(bot, today=DAY) == 0
    assert api.messages_to(CHAT) == []
    assert not _invited(sessions, checkin_id)  # given back, not lost

    assert await bridge.send_checkin_invites(bot, today=DAY) == 1
    assert [c.status for c in api.calls_of("sendMessage")] == [503] * tries + [200]
    assert len(api.messages_to(CHAT)) == 1
    assert _invited(sessions, checkin_id)
