"""Shared dependencies (`Depends`) of the routers: settings, templates, the database
session, the chat service, and the same-origin guard for POSTs.

Everything lives on `app.state`, set up by `create_app`'s lifespan; nothing is created at
import. The portal's user and role dependencies are in bot/web/portal/deps.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from bot.web.chat_service import ChatService


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates  # type: ignore[no-any-return]


def get_session_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions  # type: ignore[no-any-return]


def get_chat_service(request: Request) -> ChatService:
    return request.app.state.chat  # type: ignore[no-any-return]


def get_db(
    factory: Annotated[sessionmaker[Session], Depends(get_session_factory)],
) -> Iterator[Session]:
    """One session per request; the route owns its transactions (`with db.begin():`)."""
    with factory() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
ChatDep = Annotated[ChatService, Depends(get_chat_service)]
DbDep = Annotated[Session, Depends(get_db)]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
        own = {origin_of(get_settings(request).public_web_url), f"{request.url.scheme}://{host}"}
        return origin in own
    return True
