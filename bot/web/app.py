"""The web chat for children under 16 (Telegram requires 16+ in the EU).

The browser talks only to this app; the app talks to Rasa's REST channel on loopback, so
Rasa is never exposed. A child opens `/chat?code=XXXX-XXXX` (or types the code): the code
goes into a short-lived signed cookie and leaves the URL at once; the child presses
"Beginnen", and only then is `/start CODE` sent to Rasa. Redeeming on that POST rather than
on the GET keeps link previews (messaging apps fetch links) from using up the code.

The session is a signed, HttpOnly, SameSite=Lax cookie holding a random token; the
database keeps its keyed hash and an encrypted transcript (bot/web/store.py), so the child
can close the tab and continue later on the same device, and a reload shows the
conversation so far.

All Dutch copy is in bot/web/templates; JSON errors carry codes that the page turns into
kind messages.
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bot import invites
from bot.chat_commands import COMMANDS
from bot.settings import Settings
from bot.storage.db import make_engine, make_session_factory
from bot.web import signing
from bot.web.limits import RateLimit
from bot.web.rasa import BotMessage, RasaClient, RasaUnavailable
from bot.web.store import MAX_IDLE, Entry, WebChat, WebSessions

HERE = Path(__file__).resolve().parent

SESSION_COOKIE = "mijnstem_chat"
CODE_COOKIE = "mijnstem_code"
CODE_COOKIE_AGE = 3600
SESSION_COOKIE_AGE = int(MAX_IDLE.total_seconds())

MAX_MESSAGE_CHARS = 4000
MAX_BODY_BYTES = 64 * 1024
MESSAGES_PER_MINUTE = 20
# Per client address: invite codes cannot be guessed by trying many.
STARTS_PER_MINUTE = 10
RASA_TIMEOUT = httpx.Timeout(30.0, connect=3.0)

# A typed "/word" reaches Rasa as an intent; "/restart" would wipe the conversation.
# Typed commands pass only if the bot's own command parser knows them; otherwise the
# slash is dropped. Button payloads come from the bot itself and are sent as they are.
TYPED_COMMANDS = frozenset(COMMANDS)
_SLASH_RE = re.compile(r"^\s*/([A-Za-z_]+)")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def clean_text(raw: str) -> str:
    """Drop control characters (keeping line breaks) and lone surrogates, trim."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def typed_text_for_rasa(text: str) -> str:
    match = _SLASH_RE.match(text)
    if match and match.group(1).lower() not in TYPED_COMMANDS:
        return text.lstrip()[1:]
    return text


class BadRequest(Exception):
    def __init__(self, status: int, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.extra = extra


@dataclass
class ChatService:
    """What the routes share: settings, the session store, the Rasa client, the limits."""

    settings: Settings
    store: WebSessions
    rasa: RasaClient
    message_limit: RateLimit = field(default_factory=lambda: RateLimit(MESSAGES_PER_MINUTE))
    start_limit: RateLimit = field(default_factory=lambda: RateLimit(STARTS_PER_MINUTE))
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    def lock(self, chat: WebChat) -> asyncio.Lock:
        """One exchange at a time per chat, so Rasa sees messages in order."""
        if len(self._locks) > 1000:
            for key in [k for k, v in self._locks.items() if not v.locked()]:
                del self._locks[key]
        return self._locks.setdefault(chat.id, asyncio.Lock())

    async def exchange(self, chat: WebChat, text: str, shown_as: str | None) -> list[BotMessage]:
        """Send one message to Rasa and record the exchange. `shown_as` is the child's
        bubble (None for the hidden "/start CODE")."""
        replies = await self.rasa.send(chat.sender, text)
        entries = [Entry("child", shown_as)] if shown_as is not None else []
        entries += [
            Entry("bot", m.text, [(b.title, b.payload) for b in m.buttons]) for m in replies
        ]
        await run_in_threadpool(self.store.record, chat, entries)
        return replies


def create_app(settings: Settings, *, sessions: sessionmaker[Session] | None = None) -> FastAPI:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    secure_cookies = settings.public_web_url.startswith("https://")
    own_origins = {_origin(settings.public_web_url)}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        factory = sessions
        if factory is None:
            engine = make_engine(settings)
            factory = make_session_factory(engine)
        async with httpx.AsyncClient(timeout=RASA_TIMEOUT, trust_env=False) as http:
            app.state.chat = ChatService(
                settings=settings,
                store=WebSessions(settings, factory),
                rasa=RasaClient(
                    settings.rasa_webhook_url,
                    http,
                    action_health_url=f"http://{settings.host}:{settings.action_port}/health",
                ),
            )
            yield
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        title="Mijn Stem", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-cache")
        else:
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response

    def service(request: Request) -> ChatService:
        return request.app.state.chat  # type: ignore[no-any-return]

    def same_origin(request: Request) -> bool:
        """CSRF guard for POSTs, on top of SameSite cookies. Browsers send Sec-Fetch-Site;
        with Referrer-Policy no-referrer, Chromium sends `Origin: null` on form posts, so
        Origin is only compared when it is a real origin."""
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site in ("same-origin", "none")
        origin = request.headers.get("origin")
        if origin is not None and origin != "null":
            host = request.headers.get("host", "")
            return origin in own_origins | {f"{request.url.scheme}://{host}"}
        return True

    def set_session_cookie(response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            signing.sign(settings.web_secret, "session", token),
            max_age=SESSION_COOKIE_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure_cookies,
        )

    def set_code_cookie(response: Response, code: str) -> None:
        response.set_cookie(
            CODE_COOKIE,
            signing.sign(settings.web_secret, "code", code),
            max_age=CODE_COOKIE_AGE,
            path="/chat",
            httponly=True,
            samesite="lax",
            secure=secure_cookies,
        )

    def session_token(request: Request) -> str | None:
        return signing.unsign(
            settings.web_secret,
            "session",
            request.cookies.get(SESSION_COOKIE),
            max_age=SESSION_COOKIE_AGE,
        )

    def pending_code(request: Request) -> str | None:
        code = signing.unsign(
            settings.web_secret,
            "code",
            request.cookies.get(CODE_COOKIE),
            max_age=CODE_COOKIE_AGE,
        )
        return code if code and invites.looks_like_code(code) else None

    async def current_chat(request: Request) -> tuple[str, WebChat] | None:
        token = session_token(request)
        if token is None:
            return None
        chat = await run_in_threadpool(service(request).store.load, token)
        return (token, chat) if chat is not None else None

    def start_page(
        request: Request,
        *,
        code: str = "",
        error: str | None = None,
        status: int = 200,
        has_chat: bool = False,
        expired: bool = False,
    ) -> Response:
        return templates.TemplateResponse(
            request,
            "start.html",
            {"code": code, "error": error, "has_chat": has_chat, "expired": expired},
            status_code=status,
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/")
    async def index() -> Response:
        return RedirectResponse("/chat", status_code=303)

    @app.get("/chat")
    async def chat_page(request: Request, code: str | None = None) -> Response:
        if code is not None:
            # The code must not linger in the address bar or the history.
            redirect = RedirectResponse("/chat", status_code=303)
            norm = invites.normalise(code)
            if invites.looks_like_code(norm):
                set_code_cookie(redirect, norm)
            return redirect
        found = await current_chat(request)
        waiting_code = pending_code(request)
        if found is None or waiting_code is not None:
            response = start_page(
                request,
                code=_format_code(waiting_code) if waiting_code else "",
                has_chat=found is not None,
                expired=found is None and SESSION_COOKIE in request.cookies,
            )
            if found is None and SESSION_COOKIE in request.cookies:
                response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        token, chat = found
        response = templates.TemplateResponse(
            request,
            "chat.html",
            {
                "transcript": chat.transcript,
                "buttons": [title for title, _ in chat.open_buttons],
                "pending_text": chat.pending_text or "",
                "max_chars": MAX_MESSAGE_CHARS,
            },
        )
        set_session_cookie(response, token)  # a visit extends the cookie's life
        return response

    @app.post("/chat/start")
    async def start(request: Request) -> Response:
        if not same_origin(request):
            return Response("forbidden", status_code=403, media_type="text/plain")
        chat_service = service(request)
        client = request.client.host if request.client else "unknown"
        if chat_service.start_limit.hit(client) is not None:
            return start_page(request, error="rate_limited", status=429)
        try:
            form = await request.form()
            raw = form.get("code")
            code = clean_text(raw if isinstance(raw, str) else "")
        except Exception:  # noqa: BLE001 - any malformed form is just a bad code
            code = ""
        if not invites.looks_like_code(code):
            return start_page(request, code=code[:40], error="bad_code", status=422)
        code = _format_code(invites.normalise(code))

        found = await current_chat(request)
        if found is None:
            token = await run_in_threadpool(chat_service.store.create)
            chat = await run_in_threadpool(chat_service.store.load, token)
            assert chat is not None
        else:
            token, chat = found
        try:
            async with chat_service.lock(chat):
                await chat_service.exchange(chat, f"/start {code}", shown_as=None)
        except RasaUnavailable:
            # Keep both cookies: a retry uses the same chat, so a code that Rasa did
            # redeem before the answer got lost still counts as this chat's own.
            response = start_page(request, code=code, error="busy", status=503)
            set_code_cookie(response, invites.normalise(code))
            set_session_cookie(response, token)
            return response
        response = RedirectResponse("/chat", status_code=303)
        set_session_cookie(response, token)
        response.delete_cookie(CODE_COOKIE, path="/chat")
        return response

    @app.post("/chat/resume")
    async def resume(request: Request) -> Response:
        """Back to the chat on this device, without using the code that is waiting."""
        if not same_origin(request):
            return Response("forbidden", status_code=403, media_type="text/plain")
        response = RedirectResponse("/chat", status_code=303)
        response.delete_cookie(CODE_COOKIE, path="/chat")
        return response

    @app.post("/chat/api/message")
    async def message(request: Request) -> Response:
        try:
            if not same_origin(request):
                raise BadRequest(403, "forbidden")
            found = await current_chat(request)
            if found is None:
                raise BadRequest(401, "no_session")
            _, chat = found
            body = await _read_json(request)
            chat_service = service(request)
            wait = chat_service.message_limit.hit(chat.id)
            if wait is not None:
                raise BadRequest(429, "rate_limited", retry_after=int(wait) + 1)
            async with chat_service.lock(chat):
                # Reload inside the lock: another tab may have answered the buttons.
                fresh = await run_in_threadpool(chat_service.store.load, found[0])
                if fresh is None:
                    raise BadRequest(401, "no_session")
                to_rasa, shown, typed = _message_from(body, fresh)
                try:
                    replies = await chat_service.exchange(fresh, to_rasa, shown_as=shown)
                except RasaUnavailable:
                    if typed:
                        await run_in_threadpool(chat_service.store.set_pending, fresh, shown)
                    raise BadRequest(503, "busy") from None
        except BadRequest as exc:
            return JSONResponse({"error": exc.error, **exc.extra}, status_code=exc.status)
        buttons = [b.title for m in replies for b in m.buttons]
        return JSONResponse(
            {
                "child": shown,
                "messages": [{"text": m.text} for m in replies],
                "buttons": buttons,
            }
        )

    @app.get("/chat/leave")
    async def leave_page(request: Request) -> Response:
        return templates.TemplateResponse(request, "leave.html", {})

    @app.post("/chat/leave")
    async def leave(request: Request) -> Response:
        """Take the conversation off this (maybe shared) device. The child's answers stay
        in the database; coming back needs a new code."""
        if not same_origin(request):
            return Response("forbidden", status_code=403, media_type="text/plain")
        found = await current_chat(request)
        if found is not None:
            await run_in_threadpool(service(request).store.delete, found[1])
        response = RedirectResponse("/chat/left", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CODE_COOKIE, path="/chat")
        return response

    @app.get("/chat/left")
    async def left(request: Request) -> Response:
        return templates.TemplateResponse(request, "left.html", {})

    return app


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


async def _read_json(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(415, "invalid_request")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(413, "too_long", max=MAX_MESSAGE_CHARS)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise BadRequest(413, "too_long", max=MAX_MESSAGE_CHARS)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "invalid_encoding") from None
    try:
        body = json.loads(text)
    except ValueError:
        raise BadRequest(400, "invalid_request") from None
    if not isinstance(body, dict):
        raise BadRequest(400, "invalid_request")
    return body


def _message_from(body: dict[str, Any], chat: WebChat) -> tuple[str, str, bool]:
    """(text for Rasa, the child's bubble, typed?) from {"text": ...} or {"button": n}."""
    if "button" in body:
        index = body["button"]
        buttons = chat.open_buttons
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(buttons):
            raise BadRequest(409, "stale_button")
        title, payload = buttons[index]
        return payload, title, False
    raw = body.get("text")
    if not isinstance(raw, str):
        raise BadRequest(400, "invalid_request")
    text = clean_text(raw)
    if not text:
        raise BadRequest(422, "empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise BadRequest(422, "too_long", max=MAX_MESSAGE_CHARS)
    return typed_text_for_rasa(text), text, True
