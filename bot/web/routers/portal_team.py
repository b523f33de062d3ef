"""The team lead's pages: anonymous figures, the printable "jullie vertelden ons / wij
deden" page, the team inbox (children without a caseworker) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot import accounts, audit
from bot.loop.figures import MIN_COUNT, team_figures
from bot.portal import sessions
from bot.portal.figures import we_did
from bot.storage import loop
from bot.storage.models import Caseworker
from bot.web.deps import DbDep, TemplatesDep
from bot.web.portal_deps import require_roles

router = APIRouter(prefix="/portal/team")

LeadDep = Annotated[sessions.Current, Depends(require_roles("teamlead"))]


@router.get("")
async def team_page(
    request: Request, db: DbDep, templates: TemplatesDep, user: LeadDep
) -> Response:
    with db.begin():
        team = user.account.team
        figures = team_figures(session=db, team=team)
        inbox = loop.team_inbox(session=db, team=team)
        colleagues = [
            cw
            for cw in accounts.list_by_team(session=db, team=team)
            if cw.role in ("caseworker", "teamlead")
        ]
        audit.record(session=db, action="team.view", actor=user.account, detail=team)
    return templates.TemplateResponse(
        request,
        "portal/team.html",
        {
            "user": user.account,
            "csrf": user.csrf,
            "figures": figures,
            "inbox": inbox,
            "colleagues": colleagues,
            "min_count": MIN_COUNT,
        },
    )


@router.get("/report")
async def team_report(
    request: Request, db: DbDep, templates: TemplatesDep, user: LeadDep
) -> Response:
    with db.begin():
        figures = team_figures(session=db, team=user.account.team)
        rows = we_did(session=db, team=user.account.team)
        audit.record(session=db, action="team.report", actor=user.account, detail=user.account.team)
    return templates.TemplateResponse(
        request,
        "portal/report.html",
        {
            "user": user.account,
            "csrf": user.csrf,
            "figures": figures,
            "rows": rows,
            "min_count": MIN_COUNT,
        },
    )


@router.get("/audit")
async def audit_page(
    request: Request, db: DbDep, templates: TemplatesDep, user: LeadDep
) -> Response:
    with db.begin():
        events = audit.list_events(session=db, team=user.account.team, limit=300)
        actors = {cw.id: cw.name for cw in db.query(Caseworker).all()}
        audit.record(session=db, action="audit.view", actor=user.account)
    return templates.TemplateResponse(
        request,
        "portal/audit.html",
        {"user": user.account, "csrf": user.csrf, "events": events, "actors": actors},
    )
