"""The web app: the child's chat and the caseworkers' portal.

`create_app` only wires: the lifespan makes the database session factory, the Rasa client
and the chat service and puts them on `app.state`; the routers (bot/web/routers/) read them
through the dependencies in bot/web/deps.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bot.portal.access import Refused, record_refusal
from bot.settings import Settings
from bot.storage.db import make_engine, make_session_factory
from bot.web.chat_service import RASA_TIMEOUT, ChatService
from bot.web.limits import RateLimit
from bot.web.portal_deps import BadForm, LoginRequired
from bot.web.rasa import RasaClient
from bot.web.routers import (
    chat,
    portal_admin,
    portal_auth,
    portal_caseload,
    portal_child,
    portal_team,
)
from bot.web.store import WebSessions

HERE = Path(__file__).resolve().parent
# Per client address; the lock-out per account is in bot/accounts.py.
PORTAL_LOGINS_PER_MINUTE = 20

# One router per area: the child's chat, then the portal's sign-in, caseload, child,
# team and admin pages.
ROUTERS = (
    chat.router,
    portal_auth.router,
    portal_caseload.router,
    portal_child.router,
    portal_team.router,
    portal_admin.router,
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
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


async def login_required(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(exc.location, status_code=303)


async def refused(request: Request, exc: Refused) -> Response:
    """403 for anything the account may not see or do; the attempt goes to the audit log."""
    account = getattr(request.state, "portal_user", None)
    await run_in_threadpool(
        record_refusal,
        request.app.state.sessions,
        account.id if account is not None else None,
        exc,
        f"{request.method} {request.url.path}",
    )
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "portal/refused.html", {"user": account}, status_code=403
    )


async def bad_form(request: Request, exc: BadForm) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "portal/bad_form.html", {}, status_code=400)


def _lifespan(settings: Settings, sessions: sessionmaker[Session] | None):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        factory = sessions
        if factory is None:
            engine = make_engine(settings)
            factory = make_session_factory(engine)
        app.state.sessions = factory
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

    return lifespan


def create_app(settings: Settings, *, sessions: sessionmaker[Session] | None = None) -> FastAPI:
    app = FastAPI(
        title="Mijn Stem",
        lifespan=_lifespan(settings, sessions),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.middleware("http")(security_headers)
    app.state.portal_login_limit = RateLimit(PORTAL_LOGINS_PER_MINUTE)
    app.add_exception_handler(LoginRequired, login_required)  # type: ignore[arg-type]
    app.add_exception_handler(Refused, refused)  # type: ignore[arg-type]
    app.add_exception_handler(BadForm, bad_form)  # type: ignore[arg-type]
    for router in ROUTERS:
        app.include_router(router)
    return app
