"""The child's web chat (for children under 16; Telegram requires 16+ in the EU).

The browser talks only to this app; the app talks to Rasa's REST channel on loopback, so
Rasa is never exposed. A child opens `/chat?code=XXXX-XXXX` (or types the code): the code
goes into a short-lived signed cookie and leaves the URL at once; the child presses
"Beginnen", and only then is `/start CODE` sent to Rasa. Redeeming on that POST rather than
on the GET keeps link previews (messaging apps fetch links) from using up the code.

The session is a signed, HttpOnly, SameSite=Lax `__Host-` cookie (Secure, Path=/; browsers
accept it on https and on http://localhost / 127.0.0.1) holding a random token; the
database keeps its keyed hash and an encrypted transcript (bot/web/store.py), so the child
can close the tab and continue later on the same device, and a reload shows the
conversation so far. On a shared device (issue 9): the token is rotated when the chat
links to a child; another child's code starts a fresh chat with a new sender id (the
old transcript is not shown); after 30 minutes without use the history is hidden until
the child taps "verder" or types their code again; a quick-exit button leaves for a
neutral page.

All Dutch copy is in bot/web/templates; JSON errors carry codes that the page turns into
kind messages.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bot import invites
from bot.network.circle import child_circle_png
from bot.settings import Settings
from bot.storage.models import Child
from bot.web import tokens
from bot.web.chat_service import (
    MAX_BODY_BYTES,
    MAX_FORM_BYTES,
    ChatService,
    clean_text,
    typed_text_for_rasa,
)
from bot.web.deps import ChatDep, DbDep, SettingsDep, TemplatesDep, same_origin
from bot.web.rasa import RasaUnavailable
from bot.web.store import MAX_IDLE, WebChat

SESSION_COOKIE = "__Host-mijnstem_chat"
CODE_COOKIE = "__Host-mijnstem_code"
CODE_COOKIE_AGE = 3600
SESSION_COOKIE_AGE = int(MAX_IDLE.total_seconds())

router = APIRouter()


class BadRequest(Exception):
    def __init__(self, status: int, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.extra = extra


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    tokens.set_signed_cookie(
        response,
        SESSION_COOKIE,
        secret=settings.web_secret,
        purpose="session",
        value=token,
        max_age=SESSION_COOKIE_AGE,
        samesite="lax",
    )


def set_code_cookie(response: Response, settings: Settings, code: str) -> None:
    tokens.set_signed_cookie(
        response,
        CODE_COOKIE,
        secret=settings.web_secret,
        purpose="code",
        value=code,
        max_age=CODE_COOKIE_AGE,
        samesite="lax",
    )


def session_token(request: Request, settings: Settings) -> str | None:
    return tokens.unsign(
        settings.web_secret,
        "session",
        request.cookies.get(SESSION_COOKIE),
        max_age=SESSION_COOKIE_AGE,
    )


def pending_code(request: Request, settings: Settings) -> str | None:
    code = tokens.unsign(
        settings.web_secret, "code", request.cookies.get(CODE_COOKIE), max_age=CODE_COOKIE_AGE
    )
    return code if code and invites.looks_like_code(code) else None


async def current_chat(request: Request, chat: ChatService) -> tuple[str, WebChat] | None:
    token = session_token(request, chat.settings)
    if token is None:
        return None
    found = await run_in_threadpool(chat.store.load, token)
    return (token, found) if found is not None else None


def _delete(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="lax")


def _forbidden() -> Response:
    return Response("forbidden", status_code=403, media_type="text/plain")


def _start_page(
    request: Request,
    templates: Jinja2Templates,
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


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/")
async def index() -> Response:
    return RedirectResponse("/chat", status_code=303)


# The page's own buttons: command -> what the child's bubble shows (a picture, no words).
PAGE_COMMANDS = {"gevoel": "😊"}


def _age_group(db: Any, child_id: int | None) -> str | None:
    """The linked child's age band today (the page reads aloud by default for 6-9)."""
    if child_id is None:
        return None
    with db.begin():
        child = db.get(Child, child_id)
        return child.current_age_group if child is not None else None


@router.get("/chat")
async def chat_page(
    request: Request,
    service: ChatDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    db: DbDep,
    code: str | None = None,
) -> Response:
    if code is not None:
        # The code must not linger in the address bar or the history.
        redirect = RedirectResponse("/chat", status_code=303)
        norm = invites.normalise(code)
        if invites.looks_like_code(norm):
            set_code_cookie(redirect, settings, norm)
        return redirect
    found = await current_chat(request, service)
    waiting_code = pending_code(request, settings)
    if found is None or waiting_code is not None:
        response = _start_page(
            request,
            templates,
            code=_format_code(waiting_code) if waiting_code else "",
            has_chat=found is not None,
            expired=found is None and SESSION_COOKIE in request.cookies,
        )
        if found is None and SESSION_COOKIE in request.cookies:
            _delete(response, SESSION_COOKIE)
        return response
    token, chat = found
    if chat.paused():
        response = templates.TemplateResponse(request, "paused.html", {})
        set_session_cookie(response, settings, token)
        return response
    response = templates.TemplateResponse(
        request,
        "chat.html",
        {
            "transcript": chat.transcript,
            "buttons": [title for title, _ in chat.open_buttons],
            "pending_text": chat.pending_text or "",
            "max_chars": settings.web_max_message_chars,
            "age_group": await run_in_threadpool(_age_group, db, chat.child_id),
        },
    )
    set_session_cookie(response, settings, token)  # a visit extends the cookie's life
    return response


@router.post("/chat/start")
async def start(
    request: Request, service: ChatDep, settings: SettingsDep, templates: TemplatesDep
) -> Response:
    if not same_origin(request):
        return _forbidden()
    client = request.client.host if request.client else "unknown"
    if service.start_limit.hit(client) is not None or service.code_failures.wait(client):
        return _start_page(request, templates, error="rate_limited", status=429)
    try:
        form = await _read_form(request, settings.web_max_message_chars)
        raw = form.get("code")
        code = clean_text(raw if isinstance(raw, str) else "")
    except BadRequest as exc:
        return _start_page(request, templates, error="bad_code", status=exc.status)
    except Exception:  # noqa: BLE001 - any malformed form is just a bad code
        code = ""
    if not invites.looks_like_code(code):
        service.code_failures.fail(client)
        return _start_page(request, templates, code=code[:40], error="bad_code", status=422)
    code = _format_code(invites.normalise(code))

    found = await current_chat(request, service)
    if found is not None and found[1].linked:
        token, chat = found
        if await run_in_threadpool(service.store.is_own_code, chat, code):
            # The child's own code again: back to their chat, no new link.
            await run_in_threadpool(service.store.touch, chat)
            back = RedirectResponse("/chat", status_code=303)
            _delete(back, CODE_COOKIE)
            return back
        # Another code on a linked chat: a fresh chat with a new sender id, so the
        # other child never sees this transcript and nothing moves between children.
        found = None
    if found is None:
        token = await run_in_threadpool(service.store.create)
        loaded = await run_in_threadpool(service.store.load, token)
        assert loaded is not None
        chat = loaded
    else:
        token, chat = found
    try:
        async with service.lock(chat):
            await service.exchange(chat, f"/start {code}", shown_as=None)
    except RasaUnavailable:
        # Keep both cookies: a retry uses the same chat, so a code that Rasa did
        # redeem before the answer got lost still counts as this chat's own.
        busy = _start_page(request, templates, code=code, error="busy", status=503)
        set_code_cookie(busy, settings, invites.normalise(code))
        set_session_cookie(busy, settings, token)
        return busy
    after = await run_in_threadpool(service.store.load, token)
    if after is not None and after.linked:
        service.code_failures.succeed(client)
        if not chat.linked:
            token = await run_in_threadpool(service.store.rotate, after, token)
    else:
        service.code_failures.fail(client)
    response = RedirectResponse("/chat", status_code=303)
    set_session_cookie(response, settings, token)
    _delete(response, CODE_COOKIE)
    return response


@router.post("/chat/continue")
async def continue_chat(request: Request, service: ChatDep) -> Response:
    """The child taps "verder" on the paused page: the history shows again."""
    if not same_origin(request):
        return _forbidden()
    found = await current_chat(request, service)
    if found is not None:
        await run_in_threadpool(service.store.touch, found[1])
    return RedirectResponse("/chat", status_code=303)


@router.post("/chat/resume")
async def resume(request: Request) -> Response:
    """Back to the chat on this device, without using the code that is waiting."""
    if not same_origin(request):
        return _forbidden()
    response = RedirectResponse("/chat", status_code=303)
    _delete(response, CODE_COOKIE)
    return response


@router.post("/chat/api/message")
async def message(request: Request, service: ChatDep) -> Response:
    try:
        if not same_origin(request):
            raise BadRequest(403, "forbidden")
        found = await current_chat(request, service)
        if found is None:
            raise BadRequest(401, "no_session")
        _, chat = found
        body = await _read_json(request, service.settings.web_max_message_chars)
        wait = service.message_limit.hit(chat.id)
        if wait is not None:
            raise BadRequest(429, "rate_limited", retry_after=int(wait) + 1)
        async with service.lock(chat):
            # Reload inside the lock: another tab may have answered the buttons.
            fresh = await run_in_threadpool(service.store.load, found[0])
            if fresh is None:
                raise BadRequest(401, "no_session")
            if fresh.paused():
                raise BadRequest(409, "paused")
            to_rasa, shown, typed = _message_from(
                body, fresh, service.settings.web_max_message_chars
            )
            try:
                replies = await service.exchange(fresh, to_rasa, shown_as=shown)
            except RasaUnavailable:
                if typed:
                    await run_in_threadpool(service.store.set_pending, fresh, shown)
                raise BadRequest(503, "busy") from None
    except BadRequest as exc:
        return JSONResponse({"error": exc.error, **exc.extra}, status_code=exc.status)
    buttons = [b.title for m in replies for b in m.buttons]
    return JSONResponse(
        {
            "child": shown,
            "messages": [
                {"text": m.text, **({"image": m.image} if m.image else {})} for m in replies
            ],
            "buttons": buttons,
        }
    )


@router.get("/chat/circle.png")
async def circle_png(request: Request, service: ChatDep, db: DbDep) -> Response:
    """The child's own network circle (all their people, private ones too: it is their
    own picture), for this chat's child only."""
    found = await current_chat(request, service)
    if found is None or found[1].child_id is None or found[1].paused():
        return Response(status_code=404)
    child_id = found[1].child_id

    def draw() -> bytes | None:
        with db.begin():
            return child_circle_png(session=db, child_id=child_id)

    png = await run_in_threadpool(draw)
    if png is None:
        return Response(status_code=404)
    return Response(png, media_type="image/png")


@router.get("/chat/leave")
async def leave_page(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "leave.html", {})


@router.post("/chat/leave")
async def leave(request: Request, service: ChatDep) -> Response:
    """Take the conversation off this (maybe shared) device. The child's answers stay
    in the database; coming back needs a new code."""
    if not same_origin(request):
        return _forbidden()
    found = await current_chat(request, service)
    if found is not None:
        await run_in_threadpool(service.store.delete, found[1])
    response = RedirectResponse("/chat/left", status_code=303)
    _delete(response, SESSION_COOKIE)
    _delete(response, CODE_COOKIE)
    return response


@router.get("/chat/left")
async def left(request: Request, templates: TemplatesDep) -> Response:
    return templates.TemplateResponse(request, "left.html", {})


def _format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


async def _read_capped(request: Request, limit: int, max_chars: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BadRequest(413, "too_long", max=max_chars)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise BadRequest(413, "too_long", max=max_chars)
    return bytes(raw)


async def _read_form(request: Request, max_chars: int) -> FormData:
    """The start form, refused when larger than MAX_FORM_BYTES."""
    request._body = await _read_capped(request, MAX_FORM_BYTES, max_chars)
    return await request.form()


async def _read_json(request: Request, max_chars: int) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(415, "invalid_request")
    raw = await _read_capped(request, MAX_BODY_BYTES, max_chars)
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


def _message_from(body: dict[str, Any], chat: WebChat, max_chars: int) -> tuple[str, str, bool]:
    """(text for Rasa, the child's bubble, typed?) from {"text": ...}, {"button": n} or
    {"command": "gevoel"} (the page's own buttons, e.g. "Hoe voel ik me?")."""
    if "command" in body:
        command = body["command"]
        if command not in PAGE_COMMANDS:
            raise BadRequest(400, "invalid_request")
        return f"/{command}", PAGE_COMMANDS[command], False
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
    if len(text) > max_chars:
        raise BadRequest(422, "too_long", max=max_chars)
    return typed_text_for_rasa(text), text, True
