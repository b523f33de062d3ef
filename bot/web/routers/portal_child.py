"""A child's page: what the child chose to share over time (never private items), the
follow-ups with answers, the child's messages and reactions, the network circle, the
PDF, a new invite with its printable letter, and moving the child to another caseworker.

Every route works through `child_access(action)` (bot/web/portal_deps.py): inside the
route's transaction it asks bot/portal/access.py whether this account may see this
child (a refusal is audited and answered 403), and it writes the audit record."""

from __future__ import annotations

import base64
import io
from datetime import timedelta
from typing import Annotated

import qrcode
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import accounts
from bot.network.circle import people_of_child, render_circle_svg
from bot.portal import access
from bot.portal.caseload import invite_state
from bot.portal.pdf import summary_pdf
from bot.portal.shared import shared_view
from bot.storage import loop, repo
from bot.storage.models import Caseworker, Child, SharedSummary, utcnow
from bot.web.deps import DbDep, SettingsDep, TemplatesDep
from bot.web.portal_deps import ChildAccess, FormDep, child_access
from bot.web.qr import telegram_link, web_chat_link

router = APIRouter(prefix="/portal/child")


def _colleagues(db: Session, account: Caseworker, child: Child) -> list[Caseworker]:
    team = account.team if account.team is not None else child.team
    return [
        cw
        for cw in accounts.list_by_team(session=db, team=team)
        if cw.role in ("caseworker", "teamlead") and cw.id != child.caseworker_id
    ]


@router.get("/{child_id}")
async def child_page(
    request: Request,
    db: DbDep,
    templates: TemplatesDep,
    scope: Annotated[ChildAccess, Depends(child_access("child.view"))],
) -> Response:
    now = utcnow()
    user = scope.user
    with scope.begin() as child:
        follow_ups = loop.follow_ups_for_child(session=db, child_id=child.id)
        for follow_up in follow_ups:
            if follow_up.opened_at is None:
                loop.mark_opened(session=db, follow_up=follow_up, by=user.account, now=now)
        items = [
            {
                "follow_up": f,
                "text": loop.item_text(f),
                "overdue": loop.is_answer_overdue(f, now),
                "replies": list(f.replies),
            }
            for f in follow_ups
        ]
        messages = loop.messages_for_child(session=db, child_id=child.id)
        checkins = {c.id: c for c in loop.checkins(session=db, child_id=child.id)}
        unread_summaries = db.scalar(
            select(SharedSummary.id)
            .where(SharedSummary.child_id == child.id, SharedSummary.read_at.is_(None))
            .limit(1)
        )
        history = loop.assignment_history(session=db, child_id=child.id)
        names = {cw.id: cw.name for cw in db.scalars(select(Caseworker))}
        context = {
            "user": user.account,
            "csrf": user.csrf,
            "child": child,
            "caseworker": names.get(child.caseworker_id) if child.caseworker_id else None,
            "state": invite_state(session=db, child=child, now=now),
            "view": shared_view(session=db, child_id=child.id),
            "items": items,
            "messages": messages,
            "checkins": checkins,
            "has_unread": unread_summaries is not None or any(m.read_at is None for m in messages),
            "history": history,
            "names": names,
            "colleagues": _colleagues(db, user.account, child),
            "statuses": loop.REPLY_STATUSES,
            "now": now,
        }
        scope.audit(child)
    return templates.TemplateResponse(request, "portal/child.html", context)


@router.get("/{child_id}/circle.svg")
async def circle_svg(
    db: DbDep, scope: Annotated[ChildAccess, Depends(child_access("child.circle"))]
) -> Response:
    with scope.begin() as child:
        people = people_of_child(session=db, child_id=child.id, shared_only=True)
    svg = render_circle_svg(people)
    return Response(
        svg,
        media_type="image/svg+xml",
        # An SVG opened on its own could run script; ours has none, and this forbids it.
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


@router.get("/{child_id}/summary.pdf")
async def summary_pdf_route(
    child_id: int,
    db: DbDep,
    scope: Annotated[ChildAccess, Depends(child_access("child.export"))],
) -> Response:
    user = scope.user
    with scope.begin() as child:
        view = shared_view(session=db, child_id=child.id)
        name = child.display_name
        age_group = child.age_group
        scope.audit(child, detail="pdf")
    pdf = summary_pdf(
        view=view, child_name=name, child_id=child_id, age_group=age_group,
        made_by=user.account.name, made_at=utcnow(),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="mijnstem-kind-{child_id}.pdf"'},
    )


@router.post("/{child_id}/read")
async def mark_read(
    child_id: int,
    db: DbDep,
    form: FormDep,
    scope: Annotated[ChildAccess, Depends(child_access("summary.read"))],
) -> Response:
    with scope.begin() as child:
        for summary in db.scalars(
            select(SharedSummary).where(
                SharedSummary.child_id == child.id, SharedSummary.read_at.is_(None)
            )
        ):
            loop.mark_summary_read(session=db, summary=summary)
        loop.mark_messages_read(session=db, child_id=child.id, by=scope.user.account)
        scope.audit(child)
    return RedirectResponse(f"/portal/child/{child_id}", status_code=303)


@router.post("/{child_id}/follow-up/{follow_up_id}/answer")
async def answer(
    child_id: int,
    follow_up_id: int,
    db: DbDep,
    form: FormDep,
    scope: Annotated[ChildAccess, Depends(child_access("follow_up.answer"))],
) -> Response:
    status = form.get("status")
    text = form.get("text")
    try:
        with scope.begin() as child:
            follow_up = loop.get_follow_up(session=db, follow_up_id=follow_up_id)
            if follow_up is None or follow_up.child_id != child.id:
                raise access.Refused("follow_up.answer", f"follow_up:{follow_up_id}", child.id)
            loop.add_reply(
                session=db,
                follow_up=follow_up,
                by=scope.user.account,
                status=status if isinstance(status, str) else "",
                text=text if isinstance(text, str) else None,
            )
            scope.audit(
                child,
                target=f"follow_up:{follow_up_id}",
                detail=status if isinstance(status, str) else None,
            )
    except loop.LoopError as exc:
        error = "reason_needed" if "kan_niet" in str(exc) else "invalid"
        return RedirectResponse(
            f"/portal/child/{child_id}?error={error}#follow-up-{follow_up_id}", status_code=303
        )
    return RedirectResponse(f"/portal/child/{child_id}#follow-up-{follow_up_id}", status_code=303)


def _qr_png(data: str) -> str:
    image = qrcode.make(data, box_size=6, border=2)
    out = io.BytesIO()
    image.save(out)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@router.post("/{child_id}/invite")
async def new_invite(
    child_id: int,
    request: Request,
    db: DbDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    form: FormDep,
    scope: Annotated[ChildAccess, Depends(child_access("invite.create"))],
) -> Response:
    user = scope.user
    with scope.begin() as child:
        code, invite = repo.issue_invite(
            session=db,
            child=child,
            secret=settings.pseudonym_secret,
            ttl=timedelta(days=settings.invite_ttl_days),
        )
        scope.audit(child)
        name = child.display_name
        age = child.age
        expires = invite.expires_at
    web = web_chat_link(settings, code)
    telegram = (
        telegram_link(settings, code)
        if age is not None and age >= settings.telegram_min_age
        else None
    )
    return templates.TemplateResponse(
        request,
        "portal/invite.html",
        {
            "user": user.account,
            "csrf": user.csrf,
            "child_id": child_id,
            "name": name,
            "code": code,
            "web_link": web,
            "web_qr": _qr_png(web),
            "telegram_link": telegram,
            "telegram_qr": _qr_png(telegram) if telegram else None,
            "expires": expires,
            "caseworker": user.account.name,
        },
    )


@router.post("/{child_id}/assign")
async def assign(
    child_id: int,
    db: DbDep,
    form: FormDep,
    scope: Annotated[ChildAccess, Depends(child_access("child.assign"))],
) -> Response:
    user = scope.user
    raw = form.get("caseworker_id")
    with scope.begin() as child:
        target = db.get(Caseworker, int(raw)) if isinstance(raw, str) and raw.isdigit() else None
        allowed = {cw.id for cw in _colleagues(db, user.account, child)}
        if target is None or target.id not in allowed or not target.active:
            raise access.Refused("child.assign", f"caseworker:{raw}"[:80], child.id)
        loop.assign_child(session=db, child=child, caseworker=target, by=user.account)
        scope.audit(child, detail=f"to caseworker:{target.id}")
        still_visible = access.may_see_child(session=db, account=user.account, child=child)
    return RedirectResponse(
        f"/portal/child/{child_id}" if still_visible else "/portal/", status_code=303
    )
