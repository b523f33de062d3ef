"""The caseworker's notification of a shared summary: in the background, only the
child's number, and a Telegram that cannot be reached is logged, never raised."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.notify import summaries, templates
from bot.settings import load_settings
from tests.conftest import make_test_env
from tests.e2e.stack import free_port
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI


async def test_notification_reaches_the_caseworkers_chat(tmp_path: Path):
    api = FakeTelegramAPI().start()
    try:
        settings = load_settings(make_test_env(
            tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=api.base_url))
        task = summaries.notify_summary_shared(
            settings, chat_id="4242", child_id=7, caseworker_email="sam@example.org")
        assert task is not None
        await task
        assert api.texts_to(4242) == [templates.render(
            "notify/summary_shared.txt", child_id=7, caseworker_email="sam@example.org")]
    finally:
        api.stop()


async def test_telegram_errors_are_retried_with_back_off(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    """500, 502 and a 429 twice in a row: sent once in the end, nothing lost."""
    monkeypatch.setattr(summaries, "RETRY_DELAYS", (0.01, 0.02, 0.04, 0.08))
    api = FakeTelegramAPI().start()
    try:
        settings = load_settings(make_test_env(
            tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=api.base_url))
        api.fail_next("sendMessage", status=500)
        api.fail_next("sendMessage", status=502)
        # (Telegram's retry_after is at least 1; PTB reads 0 as no RetryAfter at all.)
        api.fail_next("sendMessage", retry_after=1, times=2)
        task = summaries.notify_summary_shared(
            settings, chat_id="4242", child_id=7, caseworker_email="sam@example.org")
        assert task is not None
        await task
        assert [c.status for c in api.calls_of("sendMessage")] == [500, 502, 429, 429, 200]
        assert len(api.texts_to(4242)) == 1
    finally:
        api.stop()


async def test_unreachable_telegram_is_logged_not_raised(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(summaries, "RETRY_DELAYS", (0.01, 0.01))
    settings = load_settings(make_test_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=f"http://127.0.0.1:{free_port()}"))
    with caplog.at_level(logging.WARNING, logger="mijnstem.notify"):
        task = summaries.notify_summary_shared(
            settings, chat_id="4242", child_id=7, caseworker_email="sam@example.org")
        assert task is not None
        await task  # does not raise
    assert "summary notification not sent" in caplog.text
    assert TOKEN not in caplog.text


def test_nothing_to_send_without_a_token_or_a_linked_chat(tmp_path: Path):
    plain = load_settings(make_test_env(tmp_path))
    assert summaries.notify_summary_shared(
        plain, chat_id="4242", child_id=7, caseworker_email="x@example.org") is None
    with_token = load_settings(make_test_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN))
    assert summaries.notify_summary_shared(
        with_token, chat_id=None, child_id=7, caseworker_email="x@example.org") is None


async def test_a_429_is_waited_out_once_through_ptbs_bot(tmp_path: Path):
    """bot.notify.telegram is PTB's own `telegram.Bot`: Telegram's RetryAfter is
    honoured once, and the message arrives."""
    from bot.notify import telegram

    api = FakeTelegramAPI().start()
    try:
        settings = load_settings(make_test_env(
            tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=api.base_url))
        api.fail_next("sendMessage", retry_after=1)
        await telegram.send_message(settings, 4343, "hallo")
        assert api.texts_to(4343) == ["hallo"]
        assert [c.status for c in api.calls_of("sendMessage")] == [429, 200]
        api.fail_next("sendMessage", retry_after=1, times=2)
        with pytest.raises(telegram.TelegramError):
            await telegram.send_message(settings, 4343, "nog eens")
    finally:
        api.stop()
