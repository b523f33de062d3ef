"""The admin's page: accounts (create, role and team, (de)activate, unlock). An admin
sees no child content; passwords are set by the account holder via the command line
(`python -m bot caseworker password EMAIL`) or here as a one-time start password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from bot import accounts, audit
from bot.portal import sessions
from bot.storage.models import Caseworker
from bot.web.deps import DbDep, TemplatesDep
from bot.web.portal_deps import FormDep, require_roles

router = APIRouter(prefix="/portal/admin")

AdminDep = Annotated[sessions.Current, Depends(require_roles("admin"))]


def _text(value: object, limit: int = 254) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


@router.get("")
async def admin_page(
    request: Request, db: DbDep, templates: TemplatesDep, user: AdminDep, error: str | None = None
) -> Response:
    with db.begin():
        everyone = accounts.list_all(session=db)
    return templates.TemplateResponse(
        request,
        "portal/admin.html",
        {
            "user": user.account,
            "csrf": user.csrf,
            "accounts": everyone,
            "roles": accounts.ROLES,
            "error": error if error in ("exists", "invalid") else None,
        },
    )


@router.post("/accounts")
async def create_account(db: DbDep, user: AdminDep, form: FormDep) -> Response:
    email, name = _text(form.get("email")), _text(form.get("name"), 200)
    role, team = _text(form.get("role"), 12), _text(form.get("team"), 100) or None
    password = form.get("password")
    try:
        with db.begin():
            account = accounts.create(session=db, email=email, name=name, role=role, team=team)
            if isinstance(password, str) and password:
                accounts.set_password(session=db, account=account, password=password)
            audit.record(
                session=db,
                action="account.create",
                actor=user.account,
                target=f"caseworker:{account.id}",
                detail=role,
            )
    except IntegrityError:
        return RedirectResponse("/portal/admin?error=exists", status_code=303)
    except accounts.AccountError:
        return RedirectResponse("/portal/admin?error=invalid", status_code=303)
    return RedirectResponse("/portal/admin", status_code=303)


@router.post("/accounts/{account_id}")
async def change_account(account_id: int, db: DbDep, user: AdminDep, form: FormDep) -> Response:
    action = _text(form.get("action"), 20)
    with db.begin():
        account = db.get(Caseworker, account_id)
        if account is None or action not in ("activate", "deactivate", "unlock"):
            return RedirectResponse("/portal/admin?error=invalid", status_code=303)
        if action == "unlock":
            account.failed_logins = 0
            account.locked_until = None
        else:
            accounts.set_active(session=db, account=account, active=action == "activate")
            if action == "deactivate":
                sessions.end_all(session=db, account_id=account.id)
        audit.record(
            session=db,
            action=f"account.{action}",
            actor=user.account,
            target=f"caseworker:{account.id}",
        )
    return RedirectResponse("/portal/admin", status_code=303)
