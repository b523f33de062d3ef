"""The web chat in a real browser (Debian's Chromium driven by Playwright) against the real
stack: web app, Rasa and action server. A child opens the invite link, answers once by
text and once by button, reloads, continues, and the answers are in the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Wish
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Rasa and the action server answer in seconds, slower on a busy machine.
REPLY_TIMEOUT = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test-services (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_for_reply(page: Page) -> None:
    expect(page.locator(".typing")).to_have_count(0, timeout=REPLY_TIMEOUT)
    expect(page.locator(".msg.sending")).to_have_count(0)


def bubbles(page: Page, who: str) -> list[str]:
    return [t.strip() for t in page.locator(f".msg.{who} p").all_inner_texts()]


def test_child_chats_in_the_browser(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    out = stack.cli("invite", "--age", "8").stdout
    code = out.strip().splitlines()[-1]
    child_id = int(re.search(r"child (\d+)", out).group(1))  # type: ignore[union-attr]
    link = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("web"))
    web = stack.settings.public_web_url

    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on(
        "console",
        # The one 503 below is on purpose; anything else logged as an error is a problem.
        lambda m: problems.append(m.text) if m.type == "error" and "503" not in m.text else None,
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    # The link: the code leaves the address bar, and waits for "Beginnen".
    page.goto(link)
    assert page.url == f"{web}/chat"
    expect(page.get_by_label("Jouw code")).to_have_value(code)
    page.get_by_role("button", name="Beginnen").click()
    expect(page.locator(".choice").first).to_be_visible(timeout=REPLY_TIMEOUT)
    assert page.url == f"{web}/chat"
    welcome = bubbles(page, "bot")
    assert len(welcome) >= 2 and bubbles(page, "child") == []

    # Empty and over-long messages are not sent.
    sent_before = len(requests)
    box = page.get_by_label("Jouw bericht")
    page.get_by_role("button", name="Versturen").click()
    box.fill("x" * 4001)
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#notice")).to_contain_text("te lang")
    assert len(requests) == sent_before and bubbles(page, "child") == []

    # The first question, answered by text (with HTML that must stay text).
    wish = "Ik wil een hond 🐶 <img src=x onerror=alert(1)>"
    box.fill(wish)
    page.get_by_role("button", name="Versturen").click()
    wait_for_reply(page)
    assert bubbles(page, "child") == [wish]
    expect(page.locator("#notice")).to_be_hidden()
    assert page.locator(".msg img").count() == 0

    # The next question, answered by a button: "yes, another wish".
    choices = page.locator(".choice")
    expect(choices).to_have_count(3)  # yes, no, skip (issue 11: "Overslaan" everywhere)
    yes = choices.first.get_attribute("data-title")
    choices.first.click()
    wait_for_reply(page)
    assert bubbles(page, "child") == [wish, yes]
    before_reload = bubbles(page, "bot")

    # Reload (or come back later): the conversation so far is there.
    page.reload()
    assert bubbles(page, "bot") == before_reload
    assert bubbles(page, "child") == [wish, yes]

    # Continue. Rasa is "busy" once: the text stays and a retry sends it.
    page.route(
        "**/chat/api/message",
        lambda route: route.fulfill(status=503, json={"error": "busy"}),
        times=1,
    )
    second = "Meer voetballen ⚽"
    box.fill(second)
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#notice")).to_contain_text("Ik ben even bezig")
    expect(box).to_have_value(second)
    assert bubbles(page, "child") == [wish, yes]
    page.get_by_role("button", name="Opnieuw proberen").click()
    wait_for_reply(page)
    expect(page.locator("#notice")).to_be_hidden()
    assert bubbles(page, "child") == [wish, yes, second]

    # "No more wishes" by button; the conversation moves on to the next topic.
    expect(page.locator(".choice")).to_have_count(3)
    page.locator(".choice").nth(1).click()
    wait_for_reply(page)
    assert len(bubbles(page, "child")) == 4
    assert len(bubbles(page, "bot")) > len(before_reload) + 2

    # A phone-sized look, kept for a human eye; no sideways scrolling even at 360 px.
    page.screenshot(path=str(tmp_path / "web-chat-390.png"))
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "web-chat-360.png"))

    assert problems == []
    assert all(url.startswith(web + "/") for url in requests), requests
    context.close()

    engine = make_engine(stack.settings)
    try:
        with make_session_factory(engine).begin() as session:
            wishes = session.scalars(select(Wish).where(Wish.child_id == child_id)).all()
            assert [w.text for w in wishes] == [wish, second]
    finally:
        engine.dispose()
