"""The portal's sign-in: password (argon2, lock-out in bot/accounts.py), then TOTP when
the account has it; team leads and admins outside development must enrol TOTP first.
Sign-out deletes the server-side session."""

from __future__ import annotations

import base64
import io
import secrets

import pyotp
import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from bot import accounts, audit
from bot.portal import sessions
from bot.settings import Settings
from bot.web import tokens
from bot.web.deps import DbDep, SettingsDep, TemplatesDep
from bot.web.portal_deps import (
    LOGIN_COOKIE,
    LOGIN_COOKIE_AGE,
    AnySessionDep,
    BadForm,
    LoginRequired,
    clear_portal_cookie,
    read_form,
    set_portal_cookie,
)

router = APIRouter(prefix="/portal")

TOTP_ROLES = ("teamlead", "admin")
TOTP_ISSUER = "Mijn Stem"


def _login_page(
    request: Request,
    templates: TemplatesDep,
    settings: Settings,
    *,
    error: str | None = None,
    email: str = "",
    status: int = 200,
) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "portal/login.html",
        {"csrf": nonce, "error": error, "email": email[:254]},
        status_code=status,
    )
    tokens.set_signed_cookie(
        response,
        LOGIN_COOKIE,
        secret=settings.web_secret,
        purpose="portal-login",
        value=nonce,
        max_age=LOGIN_COOKIE_AGE,
        samesite="strict",
    )
    return response


def _text(form: FormData, name: str, limit: int = 300) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@router.get("/login")
async def login_page(
    request: Request, templates: TemplatesDep, settings: SettingsDep, found: AnySessionDep
) -> Response:
    if found is not None and found.row.stage == "ok":
        return RedirectResponse("/portal/", status_code=303)
    return _login_page(request, templates, settings)


@router.post("/login")
async def login(
    request: Request,
    db: DbDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    found: AnySessionDep,
) -> Response:
    form = await read_form(request)
    nonce = tokens.unsign(
        settings.web_secret,
        "portal-login",
        request.cookies.get(LOGIN_COOKIE),
        max_age=LOGIN_COOKIE_AGE,
    )
    submitted = _text(form, "csrf")
    if nonce is None or not secrets.compare_digest(nonce, submitted):
        return _login_page(request, templates, settings, error="expired", status=400)
    client = request.client.host if request.client else "unknown"
    if request.app.state.portal_login_limit.hit(client) is not None:
        return _login_page(request, templates, settings, error="rate_limited", status=429)
    email = _text(form, "email", 254)
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    with db.begin():
        result = accounts.verify_login(session=db, email=email, password=password[:1000])
        account = result.account
        if not result.ok or account is None:
            known = accounts.get_by_email(session=db, email=email)
            audit.record(
                session=db,
                action="login.failed",
                actor=known or "anonymous",
                target=f"caseworker:{known.id}" if known else None,
                allowed=False,
                detail=result.reason,
            )
        else:
            if found is not None:
                sessions.end(session=db, current=found)
            if account.totp_secret:
                stage = "totp"
            elif account.role in TOTP_ROLES and not settings.is_development:
                stage = "enrol"
            else:
                stage = "ok"
            token = sessions.start(
                session=db, secret=settings.web_secret, account=account, stage=stage
            )
            if stage == "ok":
                audit.record(session=db, action="login", actor=account)
    if not result.ok or account is None:
        return _login_page(request, templates, settings, error="failed", email=email, status=401)
    target = {"ok": "/portal/", "totp": "/portal/login/totp", "enrol": "/portal/account/totp"}
    response = RedirectResponse(target[stage], status_code=303)
    set_portal_cookie(response, settings, token)
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


async def _session_form(request: Request, found: sessions.Current | None) -> FormData:
    if found is None:
        raise LoginRequired()
    form = await read_form(request)
    submitted = form.get("csrf")
    if not isinstance(submitted, str) or not sessions.csrf_ok(found, submitted):
        raise BadForm()
    return form


@router.get("/login/totp")
async def totp_page(request: Request, templates: TemplatesDep, found: AnySessionDep) -> Response:
    if found is None or found.row.stage != "totp":
        raise LoginRequired()
    return templates.TemplateResponse(
        request, "portal/totp.html", {"csrf": found.csrf, "error": None}
    )


@router.post("/login/totp")
async def totp_check(
    request: Request, db: DbDep, templates: TemplatesDep, found: AnySessionDep
) -> Response:
    form = await _session_form(request, found)
    assert found is not None
    if found.row.stage != "totp" or not found.account.totp_secret:
        raise LoginRequired()
    code = _text(form, "code", 12).replace(" ", "")
    with db.begin():
        db.add(found.row)
        # A code is accepted once: replaying it within its 30 seconds fails.
        if accounts.accept_totp(session=db, account=found.account, code=code):
            sessions.set_stage(session=db, current=found, stage="ok")
            audit.record(session=db, action="login", actor=found.account, detail="totp")
            ok = True
        else:
            found.row.totp_failures += 1
            audit.record(session=db, action="login.totp_failed", actor=found.account, allowed=False)
            if found.row.totp_failures >= sessions.MAX_TOTP_FAILURES:
                sessions.end(session=db, current=found)
                raise LoginRequired()
            ok = False
    if ok:
        return RedirectResponse("/portal/", status_code=303)
    return templates.TemplateResponse(
        request, "portal/totp.html", {"csrf": found.csrf, "error": "wrong"}, status_code=401
    )


def _qr_data_uri(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@router.get("/account/totp")
async def enrol_page(
    request: Request, db: DbDep, templates: TemplatesDep, found: AnySessionDep
) -> Response:
    if found is None or found.row.stage not in ("ok", "enrol"):
        raise LoginRequired()
    with db.begin():
        db.add(found.row)
        if not found.row.pending_totp:
            found.row.pending_totp = pyotp.random_base32()
        secret = found.row.pending_totp
    return _enrol_page(request, templates, found, secret)


def _enrol_page(
    request: Request,
    templates: Jinja2Templates,
    found: sessions.Current,
    secret: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The enrolment page: the QR code and the secret to type in, and the code field."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=found.account.email, issuer_name=TOTP_ISSUER)
    return templates.TemplateResponse(
        request,
        "portal/enrol.html",
        {
            "csrf": found.csrf,
            "qr": _qr_data_uri(uri),
            "secret": secret,
            "error": error,
            "user": found.account,
            "required": found.row.stage == "enrol",
            "has_totp": bool(found.account.totp_secret),
        },
        status_code=status_code,
    )


@router.post("/account/totp")
async def enrol(
    request: Request, db: DbDep, templates: TemplatesDep, found: AnySessionDep
) -> Response:
    form = await _session_form(request, found)
    assert found is not None
    if found.row.stage not in ("ok", "enrol") or not found.row.pending_totp:
        raise LoginRequired()
    code = _text(form, "code", 12).replace(" ", "")
    with db.begin():
        db.add(found.row)
        db.add(found.account)
        secret = found.row.pending_totp
        step = accounts.totp_step(secret, code) if secret else None
        if step is not None:
            accounts.set_totp_secret(
                session=db, account=found.account, secret=secret, used_step=step
            )
            sessions.set_stage(session=db, current=found, stage="ok")
            audit.record(
                session=db,
                action="account.totp_enrolled",
                actor=found.account,
                target=f"caseworker:{found.account.id}",
            )
            return RedirectResponse("/portal/", status_code=303)
    return _enrol_page(request, templates, found, secret or "", error="wrong", status_code=401)


@router.post("/logout")
async def logout(request: Request, db: DbDep, found: AnySessionDep) -> Response:
    form = await _session_form(request, found)
    del form
    assert found is not None
    with db.begin():
        db.add(found.row)
        audit.record(session=db, action="logout", actor=found.account)
        sessions.end(session=db, current=found)
    response = RedirectResponse("/portal/login", status_code=303)
    clear_portal_cookie(response)
    return response
