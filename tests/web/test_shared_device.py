"""The web chat on a shared device (issue 9): another child's code starts a fresh chat,
the cookie is `__Host-` and rotated when linking, the history pauses after 30 minutes,
bodies are capped, failed codes back off per address, and the transcript of a chat that
never linked can be found and erased.

The fake Rasa links chats the way the real action does (repo.redeem_invite on the same
database); tests/e2e/test_portal.py repeats the second-code case against real Rasa."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import invites
from bot.privacy.erase import forget_chat, owner_of_chat
from bot.privacy.export import export_rows
from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import repo
from bot.storage.models import ConversationSession, WebSession, utcnow
from bot.web.limits import Backoff
from bot.web.routers.chat import SESSION_COOKIE
from bot.web.store import PAUSE_AFTER, sender_for
from tests.web.conftest import open_chat
from tests.web.fake_rasa import FakeRasa, default_reply


@pytest.fixture
def two_children(
    web_db: sessionmaker[Session], web_settings: Settings, fake_rasa: FakeRasa
) -> dict[str, tuple[int, str]]:
    """Children A and B with a code each; the fake Rasa redeems codes like the action."""
    made: dict[str, tuple[int, str]] = {}
    with web_db.begin() as session:
        for name in ("A", "B"):
            child = repo.create_child(
                session=session, display_name=name, age=10, age_group="10-13", caseworker=None
            )
            code = invites.new_code()
            repo.create_invite(
                session=session,
                child=child,
                code_hash=invites.code_hash(web_settings.pseudonym_secret, code),
                ttl=timedelta(days=1),
            )
            made[name] = (child.id, code)

    def reply(sender: str, message: str) -> list[dict[str, object]]:
        if message.startswith("/start "):
            with web_db.begin() as session:
                repo.redeem_invite(
                    session=session,
                    code_hash=invites.code_hash(web_settings.pseudonym_secret, message[7:]),
                    sender_hash=sender_hash(web_settings.pseudonym_secret, sender),
                    channel="web",
                )
        return default_reply(sender, message)

    fake_rasa.reply = reply
    return made


def cookie_headers(response: httpx.Response) -> list[str]:
    headers: list[str] = []
    for r in [*response.history, response]:
        headers += r.headers.get_list("set-cookie")
    return headers


async def test_another_code_starts_a_fresh_chat(
    client: httpx.AsyncClient,
    fake_rasa: FakeRasa,
    web_db: sessionmaker[Session],
    web_settings: Settings,
    two_children: dict[str, tuple[int, str]],
) -> None:
    child_a, code_a = two_children["A"]
    child_b, code_b = two_children["B"]
    page = await open_chat(client, code_a)
    cookie = next(h for h in cookie_headers(page) if h.startswith(SESSION_COOKIE))
    assert cookie.startswith("__Host-") and "Secure" in cookie and "Path=/" in cookie
    sender_a = fake_rasa.received[-1]["sender"]
    # Rotated when linking: the cookie's token no longer derives the sender id.
    token = client.cookies[SESSION_COOKIE].split(".")[0]
    assert sender_for(web_settings.web_secret, token) != sender_a
    said = await client.post("/chat/api/message", json={"text": "geheim van A"})
    assert said.status_code == 200 and fake_rasa.received[-1]["sender"] == sender_a

    page_b = await open_chat(client, code_b)
    sender_b = fake_rasa.received[-1]["sender"]
    assert sender_b != sender_a and fake_rasa.received[-1]["message"] == f"/start {code_b}"
    assert "geheim van A" not in page_b.text
    with web_db.begin() as session:
        links = {c.sender_hash: c.child_id for c in session.scalars(select(ConversationSession))}
        assert links == {
            sender_hash(web_settings.pseudonym_secret, sender_a): child_a,
            sender_hash(web_settings.pseudonym_secret, sender_b): child_b,
        }
        assert len(session.scalars(select(WebSession)).all()) == 2


async def test_history_pauses_after_30_minutes(
    client: httpx.AsyncClient,
    fake_rasa: FakeRasa,
    web_db: sessionmaker[Session],
    two_children: dict[str, tuple[int, str]],
) -> None:
    _, code_a = two_children["A"]
    await open_chat(client, code_a)
    await client.post("/chat/api/message", json={"text": "mijn geheimpje"})
    assert "mijn geheimpje" in (await client.get("/chat")).text
    with web_db.begin() as session:
        session.execute(
            update(WebSession).values(last_seen_at=utcnow() - PAUSE_AFTER - timedelta(minutes=1))
        )
    paused = await client.get("/chat")
    assert "Welkom terug" in paused.text and "mijn geheimpje" not in paused.text
    refused = await client.post("/chat/api/message", json={"text": "hoi"})
    assert (refused.status_code, refused.json()["error"]) == (409, "paused")
    sent = len(fake_rasa.received)
    # Typing the own (used) code again resumes, without a new link or a message to Rasa.
    again = await client.post("/chat/start", data={"code": code_a})
    assert "mijn geheimpje" in again.text and len(fake_rasa.received) == sent
    with web_db.begin() as session:
        session.execute(
            update(WebSession).values(last_seen_at=utcnow() - PAUSE_AFTER - timedelta(minutes=1))
        )
    assert "Welkom terug" in (await client.get("/chat")).text
    resumed = await client.post("/chat/continue")
    assert "mijn geheimpje" in resumed.text


async def test_quick_exit_on_every_child_page(
    client: httpx.AsyncClient, two_children: dict[str, tuple[int, str]]
) -> None:
    for page in [
        await client.get("/chat"),
        await open_chat(client, two_children["A"][1]),
        await client.get("/chat/leave"),
    ]:
        assert 'id="quick-exit"' in page.text and 'src="/static/exit.js"' in page.text
    script = await client.get("/static/exit.js")
    assert "location.replace" in script.text


async def test_start_body_is_capped(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    response = await client.post("/chat/start", data={"code": "K7MP-Q2XR", "pad": "x" * 8000})
    assert response.status_code == 413
    assert fake_rasa.received == []


async def test_failed_codes_back_off_per_address(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, two_children: dict[str, tuple[int, str]]
) -> None:
    for _ in range(5):  # well-formed but unknown codes reach Rasa and fail
        assert (await client.post("/chat/start", data={"code": "ZZZZ-ZZZZ"})).status_code == 200
    sent = len(fake_rasa.received)
    blocked = await client.post("/chat/start", data={"code": two_children["A"][1]})
    assert blocked.status_code == 429 and len(fake_rasa.received) == sent


def test_backoff_doubles_and_clears() -> None:
    backoff = Backoff(free=2, base=10, cap=35)
    backoff.fail("ip", now=0)
    assert backoff.wait("ip", now=0) is None
    backoff.fail("ip", now=0)
    assert backoff.wait("ip", now=5) == 5
    assert backoff.wait("ip", now=10) is None
    backoff.fail("ip", now=10)
    assert backoff.wait("ip", now=29) == 1  # 20 s after the third failure
    backoff.fail("ip", now=30)
    backoff.fail("ip", now=30)
    assert backoff.wait("ip", now=30) == 35  # capped
    backoff.succeed("ip")
    assert backoff.wait("ip", now=30) is None


async def test_unlinked_transcript_is_found_and_erased(
    client: httpx.AsyncClient,
    fake_rasa: FakeRasa,
    web_db: sessionmaker[Session],
    web_settings: Settings,
) -> None:
    await open_chat(client, "ZZZZ-ZZZZ")  # never links
    await client.post("/chat/api/message", json={"text": "iets wat ik kwijt wil"})
    sender = fake_rasa.received[-1]["sender"]
    with web_db.begin() as session:
        owner = owner_of_chat(session=session, sender_id=sender, settings=web_settings)
        assert owner.child_id is None
        found = export_rows(session=session, owner=owner, settings=web_settings)
    assert "iets wat ik kwijt wil" in str(found.get("web_session"))
    forget_chat(web_settings, web_db, sender)
    with web_db.begin() as session:
        row = session.scalars(select(WebSession)).one()
        assert row.transcript == "[]"


async def test_the_childs_circle_in_the_web_chat(
    client: httpx.AsyncClient,
    fake_rasa: FakeRasa,
    web_db: sessionmaker[Session],
    two_children: dict[str, tuple[int, str]],
) -> None:
    """An action's `image: mijnstem:circle` becomes this chat's own /chat/circle.png;
    any other image URL is dropped."""
    from bot.network import CIRCLE_IMAGE_REF, WEB_CIRCLE_URL
    from bot.storage import interview

    child_a, code_a = two_children["A"]
    assert (await client.get(WEB_CIRCLE_URL)).status_code == 404  # no chat yet
    await open_chat(client, code_a)
    assert (await client.get(WEB_CIRCLE_URL)).status_code == 404  # no people yet
    with web_db.begin() as session:
        person = interview.add_person(
            session=session,
            child_id=child_a,
            session_id=None,
            label="oma",
            name=None,
            role="oma",
        )
        interview.update_person(session=session, child_id=child_a, person_id=person.id, ring=1)
    previous = fake_rasa.reply
    fake_rasa.reply = lambda sender, message: [
        {"recipient_id": sender, "text": "Zo ziet jouw cirkel eruit", "image": CIRCLE_IMAGE_REF},
        {"recipient_id": sender, "image": "https://tracker.example/pixel.png"},
    ]
    said = await client.post("/chat/api/message", json={"text": "klaar"})
    fake_rasa.reply = previous
    assert said.json()["messages"] == [
        {"text": "Zo ziet jouw cirkel eruit", "image": WEB_CIRCLE_URL}
    ]
    page = await client.get("/chat")
    assert f'src="{WEB_CIRCLE_URL}"' in page.text and "tracker.example" not in page.text
    png = await client.get(WEB_CIRCLE_URL)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
