"""The caseload (`/portal/`): the signed-in caseworker's or team lead's children, with
safety alerts on top. An admin has no caseload and goes to the accounts page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot import audit
from bot.portal import access
from bot.portal.caseload import caseload, open_alerts
from bot.storage.models import Alert, utcnow
from bot.web.deps import DbDep, TemplatesDep
from bot.web.portal_deps import FormDep, UserDep

router = APIRouter(prefix="/portal")


@router.get("")
async def portal_root() -> Response:
    return RedirectResponse("/portal/", status_code=303)


@router.get("/")
async def caseload_page(
    request: Request, db: DbDep, templates: TemplatesDep, user: UserDep
) -> Response:
    if user.account.role == "admin":
        return RedirectResponse("/portal/admin", status_code=303)
    with db.begin():
        children = access.visible_children(session=db, account=user.account)
        rows = caseload(session=db, children=children)
        alerts = open_alerts(session=db, child_ids=[c.id for c in children])
        audit.record(session=db, action="caseload.view", actor=user.account)
    return templates.TemplateResponse(
        request,
        "portal/caseload.html",
        {"user": user.account, "csrf": user.csrf, "rows": rows, "alerts": alerts, "now": utcnow()},
    )


@router.post("/alerts/{alert_id}/ack")
async def acknowledge_alert(alert_id: int, db: DbDep, user: UserDep, form: FormDep) -> Response:
    with db.begin():
        alert = db.get(Alert, alert_id)
        child_id = alert.child_id if alert is not None else None
        if alert is None or child_id is None:
            raise access.Refused("alert.ack", f"alert:{alert_id}")
        access.get_child_for(
            session=db, account=user.account, child_id=child_id, action="alert.ack"
        )
        if alert.acknowledged_at is None:
            alert.acknowledged_at = utcnow()
            alert.acknowledged_by = user.account.email
        audit.record(
            session=db,
            action="alert.ack",
            actor=user.account,
            target=f"alert:{alert_id}",
            child_id=child_id,
        )
    return RedirectResponse("/portal/", status_code=303)
