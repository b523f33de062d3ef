"""The web chat's HTTP side with the real app against a fake Rasa on loopback: invite
links, cookies and sessions, messages and buttons, bad input, limits, Rasa being down."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.pseudonym import sender_hash
from bot.settings import Settings
from bot.storage import repo
from bot.storage.models import Child, ConversationSession, WebSession
from bot.web import tokens as signing
from bot.web.routers.chat import CODE_COOKIE, SESSION_COOKIE
from tests.web.conftest import CODE, open_chat
from tests.web.fake_rasa import FakeRasa, default_reply


def set_cookie_headers(response: httpx.Response) -> list[str]:
    headers = [h for r in [*response.history, response] for h in r.headers.get_list("set-cookie")]
    return headers


async def say(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await client.post("/chat/api/message", json=body)


async def test_health_and_security_headers(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    page = await client.get("/chat")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    # Everything the page loads comes from us.
    assert "http" not in page.text.split("<body")[0].replace('content="width', "")
    css = await client.get("/static/chat.css")
    assert css.status_code == 200 and "@import" not in css.text and "url(http" not in css.text


async def test_invite_link_leaves_the_url_and_does_not_redeem(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    link = await client.get("/chat?code=k7mp-q2xr", follow_redirects=False)
    assert link.status_code == 303
    assert link.headers["location"] == "/chat"
    cookie = link.headers["set-cookie"]
    assert cookie.startswith(f"{CODE_COOKIE}=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    page = await client.get("/chat")
    assert 'value="K7MP-Q2XR"' in page.text and "Beginnen" in page.text
    # A link preview (a GET) must not use up the single-use code.
    assert fake_rasa.received == []


async def test_start_binds_a_session_and_shows_the_chat(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    page = await open_chat(client)
    assert page.status_code == 200
    assert [str(r.url.path) for r in page.history] == ["/chat/start"]
    assert str(page.url).endswith("/chat")
    assert fake_rasa.messages == [f"/start {CODE}"]
    sender = fake_rasa.received[0]["sender"]
    assert sender.startswith("web-") and len(sender) > 20
    session_cookie = next(h for h in set_cookie_headers(page) if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session_cookie and "samesite=lax" in session_cookie.lower()
    assert "Max-Age" in session_cookie  # survives closing the browser
    # The raw token never reaches Rasa.
    token = client.cookies[SESSION_COOKIE].split(".")[0]
    assert token not in sender
    # The code cookie is gone once used; the page shows the bot and its buttons.
    assert CODE_COOKIE not in client.cookies
    assert "Hoi! Ik ben Mijn Stem." in page.text
    assert "Weet ik niet 🤷" in page.text and 'data-index="1"' in page.text


async def test_text_and_button_messages_and_reload(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, web_db: sessionmaker[Session]
) -> None:
    await open_chat(client)
    reply = await say(client, button=1)
    assert reply.status_code == 200
    assert fake_rasa.messages[-1] == "/skip"
    assert reply.json() == {
        "child": "Overslaan",
        "messages": [{"text": "Je zei: /skip"}],
        "buttons": [],
    }
    # The buttons were answered: pressing one again is refused.
    assert (await say(client, button=0)).status_code == 409

    reply = await say(client, text="  Ik wil een hond 🐶  ")
    assert reply.json()["child"] == "Ik wil een hond 🐶"
    assert fake_rasa.messages[-1] == "Ik wil een hond 🐶"
    senders = {r["sender"] for r in fake_rasa.received}
    assert len(senders) == 1

    page = await client.get("/chat")
    order = [
        page.text.index(t)
        for t in ("Hoi! Ik ben Mijn Stem.", "Overslaan", "Je zei: /skip", "Ik wil een hond 🐶")
    ]
    assert order == sorted(order)
    assert "data-index" not in page.text  # no open buttons left

    # The transcript is stored encrypted.
    with web_db.begin() as session:
        raw = session.execute(text("SELECT transcript FROM web_session")).scalar_one()
    assert "hond" not in raw and raw.startswith("gAAAA")


async def test_html_is_never_injected(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda sender, message: [
        {
            "text": "<script>alert('bot')</script>",
            "buttons": [{"title": "<b>ja</b>", "payload": "/affirm"}],
        }
    ]
    await open_chat(client)
    reply = await say(client, text="<script>alert('kind')</script>")
    assert reply.json()["child"] == "<script>alert('kind')</script>"  # JSON, shown as text
    page = await client.get("/chat")
    assert "<script>alert" not in page.text and "<b>ja</b>" not in page.text
    assert "&lt;script&gt;alert(&#39;kind&#39;)&lt;/script&gt;" in page.text
    assert "&lt;b&gt;ja&lt;/b&gt;" in page.text


async def test_bad_input_is_refused_kindly(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, web_settings: Settings
) -> None:
    max_chars = web_settings.web_max_message_chars
    assert max_chars == 4000  # the default
    await open_chat(client)
    sent_before = len(fake_rasa.received)

    async def post(content: bytes, content_type: str = "application/json") -> httpx.Response:
        return await client.post(
            "/chat/api/message", content=content, headers={"Content-Type": content_type}
        )

    cases = [
        (await say(client, text=""), 422, "empty"),
        (await say(client, text=" \n\t\x00\x07 "), 422, "empty"),
        (await say(client, text="x" * (max_chars + 1)), 422, "too_long"),
        (await post(b'{"text": "caf\xe9"}'), 400, "invalid_encoding"),
        (await post(b"not json"), 400, "invalid_request"),
        (await post(b'["a list"]'), 400, "invalid_request"),
        (await post(b'{"text": 42}'), 400, "invalid_request"),
        (await post(b'{"button": "0"}'), 409, "stale_button"),
        (await post(b'{"text": "hoi"}', "text/plain"), 415, "invalid_request"),
        (await post(b'{"text": "' + b"y" * 70_000 + b'"}'), 413, "too_long"),
    ]
    for response, status, error in cases:
        assert (response.status_code, response.json()["error"]) == (status, error)
    assert response.json()["max"] == max_chars
    assert len(fake_rasa.received) == sent_before

    # Exactly the limit is fine; control characters and lone surrogates are stripped.
    assert (await say(client, text="z" * max_chars)).status_code == 200
    ok = await post(b'{"text": "a\\u0000b\\u001bc\\ud800d\\r\\ne \\u2764\\ufe0f"}')
    assert ok.status_code == 200
    assert fake_rasa.messages[-1] == "abcd\ne ❤️"


async def test_typed_slash_commands(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    await open_chat(client)
    await say(client, text="/restart")
    await say(client, text="/stop")
    await say(client, text="/start ABCD-2345")
    assert fake_rasa.messages[-3:] == ["restart", "/stop", "/start ABCD-2345"]


async def test_rate_limit(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, web_settings: Settings
) -> None:
    assert web_settings.web_messages_per_minute == 20  # the default
    await open_chat(client)
    for i in range(web_settings.web_messages_per_minute):
        assert (await say(client, text=f"bericht {i}")).status_code == 200
    limited = await say(client, text="nog een")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited" and limited.json()["retry_after"] >= 1
    assert "nog een" not in fake_rasa.messages


@pytest.mark.parametrize(
    "web_env", [{"WEB_MESSAGES_PER_MINUTE": "3", "WEB_MAX_MESSAGE_CHARS": "50"}]
)
async def test_the_limits_are_settings(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    await open_chat(client)
    assert 'data-max="50"' in (await client.get("/chat")).text
    too_long = await say(client, text="x" * 51)
    assert (too_long.status_code, too_long.json()) == (422, {"error": "too_long", "max": 50})
    for i in range(2):  # the rejected message counted as one
        assert (await say(client, text=f"bericht {i}")).status_code == 200
    assert (await say(client, text="nog een")).status_code == 429
    assert fake_rasa.messages[-2:] == ["bericht 0", "bericht 1"]


async def test_rasa_down_keeps_the_message(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    await open_chat(client)
    fake_rasa.stop()
    busy = await say(client, text="mijn wens")
    assert (busy.status_code, busy.json()) == (503, {"error": "busy"})
    # Reloaded, the page puts the message back in the input box.
    page = await client.get("/chat")
    assert ">mijn wens</textarea>" in page.text
    assert "nog niet verstuurd" in page.text

    fake_rasa.fail_with = 500
    fake_rasa.start()
    assert (await say(client, text="mijn wens")).status_code == 503
    fake_rasa.fail_with = None
    # Rasa up but the action server down: Rasa would swallow the message, so it is not
    # even sent; an empty answer (actions lost on the way) counts as busy as well.
    fake_rasa.actions_up = False
    assert (await say(client, text="mijn wens")).status_code == 503
    assert "mijn wens" not in fake_rasa.messages
    fake_rasa.actions_up = True
    fake_rasa.reply = lambda sender, message: []
    assert (await say(client, text="mijn wens")).status_code == 503
    assert ">mijn wens</textarea>" in (await client.get("/chat")).text
    fake_rasa.received.clear()
    fake_rasa.reply = default_reply
    assert (await say(client, text="mijn wens")).status_code == 200
    page = await client.get("/chat")
    assert "</textarea>" in page.text and "></textarea>" in page.text
    assert "nog niet verstuurd" not in page.text
    assert fake_rasa.messages.count("mijn wens") == 1


async def test_rasa_down_at_start_keeps_the_code_and_the_chat(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    fake_rasa.fail_with = 502
    page = await open_chat(client)
    assert page.status_code == 503
    assert "Ik ben even bezig" in page.text and f'value="{CODE}"' in page.text
    fake_rasa.fail_with = None
    again = await client.get("/chat")
    assert f'value="{CODE}"' in again.text
    page = await client.post("/chat/start", data={"code": CODE})
    assert page.status_code == 200 and "Hoi! Ik ben Mijn Stem." in page.text
    assert len(fake_rasa.received) == 1


async def test_bad_codes_and_start_limit(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    link = await client.get("/chat?code=<script>", follow_redirects=False)
    assert link.status_code == 303 and "set-cookie" not in link.headers
    page = await client.post("/chat/start", data={"code": "hallo<b>"})
    assert page.status_code == 422
    assert "geen goede code" in page.text and 'value="hallo&lt;b&gt;"' in page.text
    for _ in range(9):
        await client.post("/chat/start", data={"code": "nee"})
    limited = await client.post("/chat/start", data={"code": CODE})
    assert limited.status_code == 429 and "Even rustig aan" in limited.text
    assert fake_rasa.received == []


async def test_sessions_need_a_valid_cookie(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, web_settings: Settings
) -> None:
    assert (await say(client, text="hoi")).json() == {"error": "no_session"}
    await open_chat(client)
    good = client.cookies[SESSION_COOKIE]
    token = good.split(".")[0]
    forged = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        signing.sign("another secret", "session", token),
        signing.sign(web_settings.web_secret, "code", token),  # right key, wrong purpose
        signing.sign(web_settings.web_secret, "session", token, now=0),  # too old
    ]
    for value in forged:
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, value)
        response = await say(client, text="hoi")
        assert (response.status_code, response.json()["error"]) == (401, "no_session")
        page = await client.get("/chat")
        assert "Jouw code" in page.text and "niet meer op dit apparaat" in page.text
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, good)
    assert (await say(client, text="hoi")).status_code == 200


async def test_cross_site_posts_are_refused(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    await open_chat(client)
    refused = [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://other.127.0.0.1:8000"},
        # A spoofed Origin does not help against what the browser says about the request.
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://127.0.0.1:8000"},
    ]
    for headers in refused:
        response = await client.post("/chat/api/message", json={"text": "hoi"}, headers=headers)
        assert response.status_code == 403, headers
        response = await client.post("/chat/start", data={"code": CODE}, headers=headers)
        assert response.status_code == 403, headers
    # What browsers send for our own page: Chromium's form posts say `Origin: null`
    # under Referrer-Policy no-referrer, with Sec-Fetch-Site: same-origin.
    allowed = [
        {"Origin": "http://127.0.0.1:8000"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8000"},
    ]
    for headers in allowed:
        response = await client.post("/chat/api/message", json={"text": "hoi"}, headers=headers)
        assert response.status_code == 200, headers
    assert fake_rasa.messages.count("hoi") == len(allowed)


async def test_a_new_link_on_the_same_device_keeps_the_chat(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    await open_chat(client)
    sender = fake_rasa.received[0]["sender"]
    page = await client.get("/chat?code=ABCD-2345")
    assert "Terug naar mijn gesprek" in page.text and 'value="ABCD-2345"' in page.text
    back = await client.post("/chat/resume")
    assert "Hoi! Ik ben Mijn Stem." in back.text and CODE_COOKIE not in client.cookies
    await open_chat(client, "ABCD-2345")
    assert fake_rasa.received[-1] == {"sender": sender, "message": "/start ABCD-2345"}


async def test_linked_session_is_erased_with_the_child(
    client: httpx.AsyncClient,
    fake_rasa: FakeRasa,
    web_db: sessionmaker[Session],
    web_settings: Settings,
) -> None:
    """Like the action server would: /start links the sender to a child. The web session
    then belongs to that conversation and goes when the child's data is erased."""
    with web_db.begin() as session:
        child_id = repo.create_child(
            session=session, display_name="Sam", age=8, age_group="6-9", caseworker=None
        ).id

    def link(sender: str, message: str) -> list[dict[str, object]]:
        if message.startswith("/start"):
            with web_db.begin() as session:
                session.add(
                    ConversationSession(
                        child_id=child_id,
                        channel="web",
                        sender_hash=sender_hash(web_settings.pseudonym_secret, sender),
                    )
                )
        return [{"text": "ok"}]

    fake_rasa.reply = link
    await open_chat(client)
    with web_db.begin() as session:
        web = session.scalars(select(WebSession)).one()
        assert web.conversation_id is not None
        session.delete(session.get(Child, child_id))
    with web_db.begin() as session:
        assert session.scalars(select(WebSession)).all() == []
    assert (await say(client, text="hoi")).status_code == 401


async def test_leaving_the_device(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, web_db: sessionmaker[Session]
) -> None:
    await open_chat(client)
    confirm = await client.get("/chat/leave")
    assert "Afsluiten op dit apparaat?" in confirm.text
    left = await client.post("/chat/leave")
    assert left.status_code == 200 and "Tot ziens" in left.text
    assert SESSION_COOKIE not in client.cookies
    with web_db.begin() as session:
        assert session.scalars(select(WebSession)).all() == []
    page = await client.get("/chat")
    assert "Jouw code" in page.text


async def test_copy_block_is_valid_json(client: httpx.AsyncClient, fake_rasa: FakeRasa) -> None:
    page = await open_chat(client)
    block = page.text.split('<script type="application/json" id="copy">')[1].split("</script>")[0]
    copy = json.loads(block)
    assert "bezig" in copy["busy"] and "{max}" in copy["too_long"]
