"""The caseworkers' portal in a real browser (Debian's Chromium driven by Playwright)
against the real stack: web app, Rasa and action server.

A 15-year-old does the interview over Rasa's REST channel and shares one wish, keeps
another private, and names two people. Their caseworker Sanne logs in (a colleague is
locked out after wrong passwords first), sees the child on her caseload, the shared wish
and not the private one, and the circle picture; she answers the wish and makes a new
invite. The child opens that invite in the web chat, and the next reply carries Sanne's
answer with her first name; the child's "dankjewel" appears back on Sanne's page.

Set MIJNSTEM_SCREENSHOTS=<folder> to keep screenshots of the caseload and the child's
page (docs/ holds the ones made this way)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot import accounts
from bot.settings import PROJECT_ROOT
from tests.e2e.stack import APP_PYTHON, Stack
from tests.e2e.test_web_chat import CHROMIUM, CHROMIUM_ARGS, REPLY_TIMEOUT, wait_for_reply

pytestmark = pytest.mark.e2e

PASSWORD = "lange zin als wachtwoord"
SHARED_WISH = "ik wil vaker bij mijn oma logeren"
PRIVATE_WISH = "en ik wil rijles als ik 17 ben"
ANSWER = "Ik heb je oma gebeld: <i>volgende maand</i> mag je een weekend logeren."


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test-services (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def add_account(stack: Stack, email: str, name: str, *extra: str) -> None:
    stack.cli("caseworker", "add", email, "--name", name, *extra)
    subprocess.run(
        [APP_PYTHON, "-m", "bot", "caseworker", "password", email],
        input=f"{PASSWORD}\n",
        env=stack.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def joined(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def interview(stack: Stack, code: str, chat: str) -> None:
    """The 15-year-old's interview over REST, sharing the first wish and the people."""
    stack.say(chat, f"/start {code}")
    stack.say(chat, SHARED_WISH)
    stack.say(chat, PRIVATE_WISH)
    stack.say(chat, "nee")
    stack.say(chat, "mijn oma en mijn broer")
    stack.say(chat, "klopt")
    for answer in ["binnenste", "wekelijks", "meer", "2", "nooit", "minder"]:
        stack.say(chat, answer)
    summary = ""
    for answer in ["nee", "nee"] + ["overslaan"] * 25:  # trusted person, then skip the rest
        summary = joined(stack.say(chat, answer))
        if re.search(r"^1\. ", summary, re.M):
            break
    numbers = {int(m.group(1)): m.group(2) for m in re.finditer(r"^(\d+)\. (.+)$", summary, re.M)}
    wanted = [n for n, line in numbers.items() if "oma logeren" in line or "belangrijk" in line]
    assert len(wanted) == 3 and not any("rijles" in numbers[n] for n in wanted), summary
    assert "Gedeeld" in joined(stack.say(chat, " ".join(map(str, wanted))))


def login(page: Page, web: str, email: str, password: str) -> None:
    page.goto(f"{web}/portal/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_caseworker_answers_and_the_child_hears_back(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    add_account(stack, "sanne@example.org", "Sanne de Vries", "--team", "Noord")
    add_account(stack, "piet@example.org", "Piet Jansen", "--team", "Noord")
    out = stack.cli(
        "invite", "--age", "15", "--name", "Lisa", "--caseworker", "sanne@example.org"
    ).stdout
    code = out.strip().splitlines()[-1]
    child_id = int(re.search(r"child (\d+)", out).group(1))  # type: ignore[union-attr]
    interview(stack, code, "rest-e2e-portal")
    web = stack.settings.public_web_url
    shots = os.environ.get("MIJNSTEM_SCREENSHOTS")

    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="nl-NL")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    # Wrong passwords lock Piet's account; then even his right password is refused.
    for _ in range(accounts.MAX_FAILED_LOGINS):
        login(page, web, "piet@example.org", "fout wachtwoord!")
        expect(page.locator(".error")).to_contain_text("Inloggen lukt niet")
    login(page, web, "piet@example.org", PASSWORD)
    expect(page.locator(".error")).to_contain_text("Inloggen lukt niet")
    assert page.url.endswith("/portal/login")

    # Sanne signs in (over http://127.0.0.1: Chromium keeps the __Host- Secure cookie).
    login(page, web, "sanne@example.org", PASSWORD)
    expect(page.locator("h1")).to_have_text("Mijn kinderen")
    cookies = {c["name"]: c for c in context.cookies()}
    assert (
        cookies["__Host-mijnstem_portal"]["secure"]
        and cookies["__Host-mijnstem_portal"]["httpOnly"]
    )
    row = page.locator(f"tr[data-child='{child_id}']")
    expect(row).to_contain_text("Lisa")
    expect(row).to_contain_text("klaar")
    expect(row).to_contain_text("wens, uiterlijk")
    if shots:
        page.screenshot(path=str(Path(shots) / "portal-caseload.png"))

    row.locator("a").click()
    expect(page.locator("h1")).to_have_text("Lisa")
    expect(page.locator(".shared.wishes")).to_contain_text(SHARED_WISH)
    assert "rijles" not in page.content()
    circle = page.locator("img#circle")
    expect(circle).to_be_visible()
    # The picture is drawn on request: wait until it has loaded (no string eval: the CSP).
    expect(circle).to_have_js_property("complete", True, timeout=REPLY_TIMEOUT)
    assert circle.evaluate("img => img.naturalWidth") > 0
    svg = page.request.get(f"{web}/portal/child/{child_id}/circle.svg")
    assert svg.ok and "oma" in svg.text() and "<svg" in svg.text()
    if shots:
        page.screenshot(path=str(Path(shots) / "portal-child.png"), full_page=False)

    # "kan niet" without a reason is refused; then the answer.
    follow_up = page.locator("article.follow-up").filter(has_text=SHARED_WISH)
    follow_up.locator("select[name=status]").select_option("kan_niet")
    follow_up.locator("button[type=submit]").click()
    expect(page.locator(".error")).to_contain_text("kan niet")
    follow_up = page.locator("article.follow-up").filter(has_text=SHARED_WISH)
    follow_up.locator("select[name=status]").select_option("gedaan")
    follow_up.locator("textarea[name=text]").fill(ANSWER)
    follow_up.locator("button[type=submit]").click()
    follow_up = page.locator("article.follow-up").filter(has_text=SHARED_WISH)
    expect(follow_up.locator(".reply-text")).to_have_text(ANSWER)  # shown as text
    expect(follow_up.locator(".status")).to_have_text("gedaan")

    # A new invite; the child opens it in the web chat (a second chat of the same child).
    page.click("text=Maak een uitnodiging")
    new_code = page.locator("#invite-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", new_code)
    expect(page.locator(".letter")).not_to_contain_text("Telegram")  # only from 16

    child = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL")
    chat = child.new_page()
    chat.goto(f"{web}/chat?code={new_code}")
    chat.click("button.primary")
    chat.wait_for_url(f"{web}/chat")
    wait_for_reply(chat)
    chat_cookie = {c["name"]: c for c in child.cookies()}["__Host-mijnstem_chat"]
    assert chat_cookie["secure"] and chat_cookie["path"] == "/"
    bot_text = "\n".join(chat.locator(".msg.bot p").all_inner_texts())
    if "Sanne" not in bot_text or "volgende maand" not in bot_text:
        chat.fill("#text", "hoi")
        chat.click("#send")
        wait_for_reply(chat)
        bot_text = "\n".join(chat.locator(".msg.bot p").all_inner_texts())
    assert "Sanne" in bot_text and ANSWER in bot_text, bot_text
    # The child reacts with the button the answer came with.
    chat.locator("button.choice", has_text="Dankjewel").click()
    wait_for_reply(chat)

    page.goto(f"{web}/portal/child/{child_id}")
    follow_up = page.locator("article.follow-up").filter(has_text=SHARED_WISH)
    expect(follow_up.locator(".reaction")).to_contain_text("dankjewel", timeout=REPLY_TIMEOUT)
    assert problems == []
    child.close()
    context.close()
