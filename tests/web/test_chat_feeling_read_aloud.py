"""Issue 11 in the web chat's HTTP side (real app, fake Rasa on loopback): the page reads
aloud by default only for a 6-9-year-old (it knows the linked child's age band), and the
"Hoe voel ik me?" button sends the /gevoel command, nothing else."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import repo
from bot.storage.models import ConversationSession
from tests.web.conftest import open_chat
from tests.web.fake_rasa import FakeRasa


def _linking(fake_rasa: FakeRasa, web_db: sessionmaker[Session], web_settings: Settings,
             age: int) -> None:
    """Like the action server would: /start links the sender to a child of `age`."""
    with web_db.begin() as session:
        child_id = repo.create_child(session=session, display_name="Bo", age=age,
                                     age_group=None, caseworker=None).id

    def link(sender: str, message: str) -> list[dict[str, object]]:
        if message.startswith("/start"):
            with web_db.begin() as session:
                session.add(ConversationSession(
                    child_id=child_id, channel="web",
                    sender_hash=sender_hash(web_settings.pseudonym_secret, sender)))
        return [{"text": "ok"}]

    fake_rasa.reply = link


@pytest.mark.parametrize(("age", "reading"), [(7, "on"), (11, "off"), (15, "off")])
async def test_read_aloud_default_follows_the_age_band(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, web_db: sessionmaker[Session],
    web_settings: Settings, age: int, reading: str,
) -> None:
    _linking(fake_rasa, web_db, web_settings, age)
    await open_chat(client)
    page = await client.get("/chat")
    assert f'data-read-aloud="{reading}"' in page.text
    # The switch is always in the page (shown by the script only with a Dutch voice).
    assert 'id="read-toggle"' in page.text


async def test_an_unlinked_chat_does_not_read_aloud_by_itself(
    client: httpx.AsyncClient,
) -> None:
    page = await open_chat(client)
    assert 'data-read-aloud="off"' in page.text


async def test_feeling_button_sends_the_command(
    client: httpx.AsyncClient, fake_rasa: FakeRasa,
) -> None:
    await open_chat(client)
    reply = await client.post("/chat/api/message", json={"command": "gevoel"})
    assert reply.status_code == 200, reply.text
    assert fake_rasa.messages[-1] == "/gevoel"
    assert reply.json()["child"] == "😊"
    refused = await client.post("/chat/api/message", json={"command": "restart"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    assert fake_rasa.messages[-1] == "/gevoel"
    page = await client.get("/chat")
    assert 'id="feeling"' in page.text
