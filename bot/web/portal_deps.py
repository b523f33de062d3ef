"""The portal's dependencies: the signed-in user, the role check, the CSRF check and
the access check for a child's pages.

The session cookie is `__Host-` prefixed (Secure, Path=/, no Domain): browsers accept
Secure cookies on https and on http://localhost / 127.0.0.1, so development over plain
http works in Chromium too. SameSite=Strict: the portal is never entered by a link from
another site with a session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from bot import audit
from bot.portal import access, sessions
from bot.portal.access import Refused
from bot.settings import Settings
from bot.storage.models import Child
from bot.web import tokens
from bot.web.deps import DbDep, SettingsDep

PORTAL_COOKIE = "__Host-mijnstem_portal"
LOGIN_COOKIE = "__Host-mijnstem_login"
LOGIN_COOKIE_AGE = 1800
MAX_FORM_BYTES = 16 * 1024


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    role: str


class LoginRequired(Exception):
    """No (complete) portal session: go to the login page, or to the TOTP step."""

    def __init__(self, location: str = "/portal/login") -> None:
        super().__init__(location)
        self.location = location


class BadForm(Exception):
    """A POST without the right CSRF token, or too large."""


def set_portal_cookie(response: Response, settings: Settings, token: str) -> None:
    tokens.set_signed_cookie(
        response,
        PORTAL_COOKIE,
        secret=settings.web_secret,
        purpose="portal",
        value=token,
        max_age=int(sessions.MAX_AGE.total_seconds()),
        samesite="strict",
    )


def clear_portal_cookie(response: Response) -> None:
    response.delete_cookie(PORTAL_COOKIE, path="/", secure=True, httponly=True, samesite="strict")


def cookie_token(request: Request, settings: Settings) -> str | None:
    return tokens.unsign(
        settings.web_secret,
        "portal",
        request.cookies.get(PORTAL_COOKIE),
        max_age=sessions.MAX_AGE.total_seconds(),
    )


def any_session(request: Request, db: DbDep, settings: SettingsDep) -> sessions.Current | None:
    """The portal session at any stage (login steps use this)."""
    with db.begin():
        return sessions.load(
            session=db, secret=settings.web_secret, token=cookie_token(request, settings)
        )


AnySessionDep = Annotated[sessions.Current | None, Depends(any_session)]


def current_user(request: Request, found: AnySessionDep) -> sessions.Current:
    if found is not None:
        # A plain copy for the error handlers, which run after the database session
        # of the request is closed.
        request.state.portal_user = UserInfo(
            found.account.id, found.account.name, found.account.role
        )
    if found is None:
        raise LoginRequired()
    if found.row.stage == "totp":
        raise LoginRequired("/portal/login/totp")
    if found.row.stage == "enrol":
        raise LoginRequired("/portal/account/totp")
    return found


UserDep = Annotated[sessions.Current, Depends(current_user)]


def require_roles(*roles: str) -> Callable[[sessions.Current], sessions.Current]:
    """A dependency that lets only these roles through; others are refused (audited by
    the Refused handler in bot/web/app.py)."""

    def check(request: Request, user: UserDep) -> sessions.Current:
        if user.account.role not in roles:
            raise Refused(f"route:{request.url.path}"[:40], request.url.path[:80])
        return user

    return check  # type: ignore[return-value]


async def read_form(request: Request) -> FormData:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise BadForm()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise BadForm()
    request._body = bytes(body)  # let Starlette parse what we already read
    return await request.form()


async def csrf_form(request: Request, user: UserDep) -> FormData:
    """The POSTed form, once its CSRF token matches the session's."""
    form = await read_form(request)
    submitted = form.get("csrf")
    if not isinstance(submitted, str) or not sessions.csrf_ok(user, submitted):
        raise BadForm()
    return form


FormDep = Annotated[FormData, Depends(csrf_form)]


@dataclass(frozen=True)
class ChildAccess:
    """One child's page, for one action: load the child and check access inside the
    route's own transaction (so the check and the work see the same rows), then audit.

    A refusal raises `Refused` (403, audited by the handler in bot/web/app.py), also for
    an unknown id."""

    db: Session
    user: sessions.Current
    child_id: int
    action: str

    @contextmanager
    def begin(self) -> Iterator[Child]:
        """`with access.begin() as child:` is the route's transaction."""
        with self.db.begin():
            yield access.get_child_for(
                session=self.db,
                account=self.user.account,
                child_id=self.child_id,
                action=self.action,
            )

    def audit(self, child: Child, *, target: str | None = None, detail: str | None = None) -> None:
        """Record the action on this child (inside `begin()`)."""
        audit.record(
            session=self.db,
            action=self.action,
            actor=self.user.account,
            target=target or f"child:{child.id}",
            child_id=child.id,
            detail=detail,
        )


def child_access(action: str) -> Callable[..., ChildAccess]:
    """A dependency for the routes under /portal/child/{child_id}: `ChildAccess` for
    `action`, with the signed-in user and the request's database session."""

    def provide(child_id: int, db: DbDep, user: UserDep) -> ChildAccess:
        return ChildAccess(db=db, user=user, child_id=child_id, action=action)

    return provide
