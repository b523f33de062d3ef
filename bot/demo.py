"""`python -m bot demo`: fill a DEVELOPMENT database with clearly marked demo data
(bot/loop/demo.yml), so that a newcomer sees a full portal at once: a team lead, two
caseworkers and an admin with a printed demo password, children named "DEMO ...",
shared and private wishes, people, messages, answers (seen and not yet seen),
reactions, an overdue answer, a child in the team inbox and a moved child.

Refuses outside MIJNSTEM_ENV=development, and refuses to load twice.
"""

from __future__ import annotations

import argparse
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from bot import accounts
from bot.age import age_group
from bot.domain import load_domain
from bot.settings import Settings
from bot.storage import interview, loop, migrate, repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Caseworker, Child, SharedSummary, utcnow

DATA = Path(__file__).resolve().parent / "loop" / "demo.yml"


def demo_password() -> str:
    """Readable and long enough (accounts.MIN_PASSWORD_LENGTH): four random words."""
    words = ["appel", "fiets", "molen", "tulp", "gracht", "kaas", "klomp", "dijk", "wolk",
             "zee", "boot", "duin", "haven", "kade", "polder", "storm"]
    return "-".join(secrets.choice(words) for _ in range(4)) + "-" + str(secrets.randbelow(90) + 10)


def load(session: Session, *, password: str, data: dict[str, Any] | None = None) -> list[int]:
    """Create the demo data; returns the demo children's ids."""
    data = data or yaml.safe_load(DATA.read_text(encoding="utf-8"))
    domain = load_domain()
    team = data["team"]
    now = utcnow()
    by_email: dict[str, Caseworker] = {}
    for spec in data["accounts"]:
        account = accounts.create(session=session, email=spec["email"], name=spec["name"],
                                  role=spec["role"], team=team)
        accounts.set_password(session=session, account=account, password=password)
        by_email[account.email] = account
    lead = next(a for a in by_email.values() if a.role == "teamlead")
    ids = []
    for spec in data["children"]:
        ids.append(_child(session, spec, by_email=by_email, lead=lead, team=team,
                          domain=domain, now=now))
    return ids


def _child(session: Session, spec: dict[str, Any], *, by_email: dict[str, Caseworker],
           lead: Caseworker, team: str, domain: dict[str, Any], now: Any) -> int:
    from actions.summary import item_line  # the summary's own wording, from the domain

    start = now - timedelta(days=spec["days_ago"])
    caseworker = by_email.get(spec.get("caseworker") or "")
    previous = by_email.get(spec.get("previous_caseworker") or "")
    child = repo.create_child(session=session, display_name=spec["name"], age=spec["age"],
                              age_group=age_group(spec["age"]), caseworker=None)
    child.team = team
    child.created_at = start
    if previous is not None:
        loop.assign_child(session=session, child=child, caseworker=previous, by=lead,
                          now=start - timedelta(days=30))
    loop.assign_child(session=session, child=child, caseworker=caseworker, by=lead,
                      now=start - timedelta(days=1))
    wishes = [repo.add_wish(session=session, child_id=child.id, session_id=None,
                            text=w["text"], topic=w["topic"]) for w in spec.get("wishes", [])]
    private = [repo.add_wish(session=session, child_id=child.id, session_id=None,
                             text=w["text"], topic=w["topic"])
               for w in spec.get("private_wishes", [])]
    for p in spec.get("people", []):
        person = interview.add_person(session=session, child_id=child.id, session_id=None,
                                      label=p["label"], name=p.get("name"), role=p.get("role"))
        interview.update_person(session=session, child_id=child.id, person_id=person.id,
                                ring=p.get("ring"), frequency=p.get("frequency"),
                                contact_wish=p.get("contact_wish"))
    if "trusted" in spec:
        t = spec["trusted"]
        interview.add_trusted_person(session=session, child_id=child.id, session_id=None,
                                     has_someone=t.get("has_someone"), who=t.get("who"),
                                     person_knows=t.get("person_knows"),
                                     wants_help=t.get("wants_help"))
    answers = {a["topic"]: interview.add_answer(session=session, child_id=child.id,
                                                session_id=None, topic=a["topic"],
                                                text=a["text"])
               for a in spec.get("answers", [])}
    rows: list[Any] = [*wishes, *private, *answers.values()]
    for row in rows:
        row.created_at = start
    items = interview.current_items(session=session, child_id=child.id)
    private_refs = {f"wish:{w.id}" for w in private}
    interview.decide(session=session, child_id=child.id, shared=True, now=start,
                     refs=[i.ref for i in items if i.ref not in private_refs])
    interview.decide(session=session, child_id=child.id, shared=False, now=start,
                     refs=sorted(private_refs))
    to_send = interview.items_to_send(session=session, child_id=child.id)
    body = "\n".join(f"• {item_line(domain, item)}" for item in to_send)
    summary = interview.send_shared(session=session, child=child, items=to_send, body=body)
    summary.created_at = start
    follow_ups = loop.open_follow_ups_for_summary(session=session, child=child,
                                                  summary=summary, now=start)
    for reply_spec in spec.get("replies", []):
        _reply(session, child, reply_spec, follow_ups=follow_ups, wishes=wishes,
               answers=answers, now=now)
    for message in spec.get("messages", []):
        loop.add_child_message(session=session, child=child, text=message["text"],
                               channel="web", now=now - timedelta(days=message["days_ago"]))
    if spec["days_ago"] > 10:
        _mark_read(session, summary)
    return child.id


def _reply(session: Session, child: Child, spec: dict[str, Any], *, follow_ups: list[Any],
           wishes: list[Any], answers: dict[str, Any], now: Any) -> None:
    if "wish" in spec:
        target = next(f for f in follow_ups if f.wish_id == wishes[spec["wish"]].id)
    else:
        target = next(f for f in follow_ups if f.answer_id == answers[spec["answer"]].id)
    when = now - timedelta(days=spec["days_ago"])
    by = child.caseworker
    assert by is not None, "demo replies need a caseworker"
    reply = loop.add_reply(session=session, follow_up=target, by=by, status=spec["status"],
                           text=spec.get("text"), now=when)
    if spec.get("delivered"):
        loop.mark_delivered(session=session, replies=[reply], now=when + timedelta(hours=3))
        if spec.get("reaction"):
            loop.add_reaction(session=session, child=child, reaction=spec["reaction"],
                              reply_id=reply.id, text=spec.get("reaction_text"),
                              channel="web", now=when + timedelta(hours=4))


def _mark_read(session: Session, summary: SharedSummary) -> None:
    loop.mark_summary_read(session=session, summary=summary,
                           now=summary.created_at + timedelta(days=1))


def demo_command(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.is_development:
        print("error: the demo fills only a development database "
              f"(MIJNSTEM_ENV=development; this is {settings.env!r})")
        return 2
    engine = make_engine(settings)
    try:
        migrate.upgrade(engine)
        password = demo_password()
        with make_session_factory(engine).begin() as session:
            data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
            first = data["accounts"][0]["email"]
            if accounts.get_by_email(session=session, email=first) is not None:
                print("the demo data is already loaded; to start again, remove "
                      f"{settings.var_dir / 'mijnstem.db'} (development only)")
                return 1
            ids = load(session, password=password, data=data)
    finally:
        engine.dispose()
    print(f"demo loaded: {len(ids)} children named DEMO ... in team {data['team']}")
    print(f"portal: {settings.public_web_url.rstrip('/')}/portal/login")
    for spec in data["accounts"]:
        print(f"  {spec['role']:<10} {spec['email']}")
    print(f"demo password (all demo accounts): {password}")
    return 0
