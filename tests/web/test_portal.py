"""The caseworkers' portal in process (the real app, a real SQLite file): login and
lock-out, TOTP, CSRF, the caseload and the child page (shared items only), answering,
HTML in a child's words shown as text, and authorisation for every portal route."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import accounts
from bot.settings import Settings, load_settings
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import AuditEvent, Caseworker, FollowUpReply
from bot.web.app import ROUTERS, create_app
from tests.conftest import make_test_env
from tests.support.portal_seed import (
    PASSWORD,
    PRIVATE_WISH,
    SHARED_WISH,
    Seeded,
    seed,
)
from tests.web.fake_rasa import FakeRasa

BASE = "https://portal.test"  # __Host- cookies are Secure; httpx sends them on https only


@pytest.fixture
async def app(web_settings: Settings, web_db: sessionmaker[Session]) -> AsyncIterator[FastAPI]:
    application = create_app(web_settings, sessions=web_db)
    async with application.router.lifespan_context(application):
        yield application


def new_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture(scope="session")
def secrets_env() -> dict[str, str]:
    """One set of keys for the seeded template and every test's copy of it."""
    return {
        "MIJNSTEM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "MIJNSTEM_PSEUDONYM_SECRET": secrets.token_urlsafe(32),
        "MIJNSTEM_WEB_SECRET": secrets.token_urlsafe(32),
    }


@pytest.fixture
def web_settings(
    tmp_path: Path, fake_rasa: FakeRasa, secrets_env: dict[str, str], web_env: dict[str, str]
) -> Settings:
    return load_settings(
        make_test_env(
            tmp_path / "var",
            RASA_URL=fake_rasa.url,
            ACTION_PORT=str(fake_rasa.port),
            DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
            **secrets_env,
            **web_env,
        )
    )


@pytest.fixture(scope="session")
def seeded_template(
    migrated_template: Path, tmp_path_factory: pytest.TempPathFactory, secrets_env: dict[str, str]
) -> tuple[Path, Seeded]:
    """Seed once (argon2 hashing is slow on purpose); each test gets a copy."""
    folder = tmp_path_factory.mktemp("portal-db")
    path = folder / "seeded.db"
    shutil.copyfile(migrated_template, path)
    settings = load_settings(
        make_test_env(folder / "var", DATABASE_URL=f"sqlite:///{path}", **secrets_env)
    )
    engine = make_engine(settings)
    seeded = seed(make_session_factory(engine))
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path, seeded


@pytest.fixture
def web_db(
    web_settings: Settings, seeded_template: tuple[Path, Seeded], tmp_path: Path
) -> Iterator[sessionmaker[Session]]:
    """The seeded database, copied for this test (overrides tests/web/conftest.py's)."""
    shutil.copyfile(seeded_template[0], tmp_path / "app.db")
    engine = make_engine(web_settings)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def seeded(seeded_template: tuple[Path, Seeded]) -> Seeded:
    return seeded_template[1]


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/portal/login")
    assert page.status_code == 200
    return await client.post(
        "/portal/login", data={"csrf": csrf_of(page), "email": email, "password": password}
    )


async def signed_in(app: FastAPI, email: str) -> tuple[httpx.AsyncClient, str]:
    client = new_client(app)
    response = await login(client, email)
    assert response.status_code == 303 and response.headers["location"] == "/portal/"
    page = await client.get("/portal/")
    if page.status_code == 303:  # the admin goes to the accounts page
        page = await client.get(page.headers["location"])
    return client, csrf_of(page)


def audit_rows(factory: sessionmaker[Session], **where: object) -> list[AuditEvent]:
    with factory.begin() as session:
        query = select(AuditEvent)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(session.scalars(query))


async def test_login_lock_out_and_logout(
    app: FastAPI, seeded: Seeded, web_db: sessionmaker[Session]
) -> None:
    client = new_client(app)
    assert (await client.get("/portal/")).headers["location"] == "/portal/login"
    page = await client.get("/portal/login")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("__Host-") and "Secure" in cookie and "HttpOnly" in cookie
    assert 'name="email"' in page.text and 'name="password"' in page.text

    # Without the form's CSRF nonce: refused.
    bad = await client.post(
        "/portal/login", data={"email": "sanne@example.org", "password": PASSWORD, "csrf": "x"}
    )
    assert bad.status_code == 400
    for _ in range(accounts.MAX_FAILED_LOGINS):
        wrong = await login(client, "sanne@example.org", "wrong password!")
        assert wrong.status_code == 401 and "Inloggen lukt niet" in wrong.text
    # Locked: now even the right password is refused, with the same message.
    locked = await login(client, "sanne@example.org")
    assert locked.status_code == 401 and "Inloggen lukt niet" in locked.text
    assert "__Host-mijnstem_portal" not in client.cookies
    failures = audit_rows(web_db, action="login.failed", actor_id=seeded.sanne)
    assert len(failures) == accounts.MAX_FAILED_LOGINS + 1
    assert {f.detail for f in failures} == {"wrong", "locked"}
    assert all(not f.allowed for f in failures)
    # An unknown e-mail gets the same answer.
    unknown = await login(client, "nobody@example.org")
    assert unknown.status_code == 401 and "Inloggen lukt niet" in unknown.text

    other, csrf = await signed_in(app, "piet@example.org")
    session_cookie = [h for h in (await other.get("/portal/")).headers.get_list("set-cookie")]
    assert session_cookie == []  # the session is server-side; the cookie is set once
    out = await other.post("/portal/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/portal/login"
    assert (await other.get("/portal/")).status_code == 303


async def test_totp_second_step(
    app: FastAPI, seeded: Seeded, web_db: sessionmaker[Session]
) -> None:
    secret = pyotp.random_base32()
    with web_db.begin() as session:
        lead = session.get(Caseworker, seeded.lead)
        assert lead is not None
        accounts.set_totp_secret(session=session, account=lead, secret=secret)
    client = new_client(app)
    first = await login(client, "lead@example.org")
    assert first.headers["location"] == "/portal/login/totp"
    # Half signed in: no page of the portal yet.
    assert (await client.get("/portal/")).headers["location"] == "/portal/login/totp"
    assert (await client.get("/portal/team")).headers["location"] == "/portal/login/totp"
    step = await client.get("/portal/login/totp")
    wrong = await client.post("/portal/login/totp", data={"csrf": csrf_of(step), "code": "000000"})
    assert wrong.status_code == 401
    code = pyotp.TOTP(secret).now()
    ok = await client.post("/portal/login/totp", data={"csrf": csrf_of(step), "code": code})
    assert ok.headers["location"] == "/portal/"
    assert (await client.get("/portal/team")).status_code == 200

    # Someone who saw the code (and has the password) cannot use it again.
    other = new_client(app)
    assert (await login(other, "lead@example.org")).headers["location"] == "/portal/login/totp"
    again = await other.get("/portal/login/totp")
    replay = await other.post("/portal/login/totp", data={"csrf": csrf_of(again), "code": code})
    assert replay.status_code == 401
    assert (await other.get("/portal/team")).headers["location"] == "/portal/login/totp"
    assert len(audit_rows(web_db, action="login.totp_failed", allowed=False)) == 2


async def test_totp_enrolment(app: FastAPI, seeded: Seeded, web_db: sessionmaker[Session]) -> None:
    client, _ = await signed_in(app, "sanne@example.org")
    page = await client.get("/portal/account/totp")
    assert 'src="data:image/svg+xml;base64,' in page.text
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page.text).group(1)  # type: ignore[union-attr]
    done = await client.post(
        "/portal/account/totp", data={"csrf": csrf_of(page), "code": pyotp.TOTP(secret).now()}
    )
    assert done.headers["location"] == "/portal/"
    with web_db.begin() as session:
        assert session.get(Caseworker, seeded.sanne).totp_secret == secret  # type: ignore[union-attr]


async def test_caseload_and_child_page_show_shared_items_only(
    app: FastAPI, seeded: Seeded, web_db: sessionmaker[Session]
) -> None:
    client, csrf = await signed_in(app, "sanne@example.org")
    caseload = await client.get("/portal/")
    assert "Lisa" in caseload.text and "Tim" not in caseload.text
    assert "3 berichten" not in caseload.text and "samenvatting" in caseload.text
    assert "wens, uiterlijk" in caseload.text

    page = await client.get(f"/portal/child/{seeded.child_a}")
    assert page.status_code == 200
    assert SHARED_WISH in page.text
    assert PRIVATE_WISH not in page.text
    assert f'src="/portal/child/{seeded.child_a}/circle.svg"' in page.text
    # HTML in the child's words is text, never markup.
    assert "<script>alert" not in page.text and "<b>vet</b>" not in page.text
    assert (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;vet&lt;/b&gt; &amp; meer"
        in page.text
    )
    svg = await client.get(f"/portal/child/{seeded.child_a}/circle.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "oma Truus" in svg.text and "&lt;b&gt;juf&lt;/b&gt; $x$" in svg.text
    assert "<b>" not in svg.text and "<script" not in svg.text

    read = await client.post(f"/portal/child/{seeded.child_a}/read", data={"csrf": csrf})
    assert read.status_code == 303
    assert "Markeer als gelezen" not in (await client.get(f"/portal/child/{seeded.child_a}")).text
    assert audit_rows(web_db, action="child.view", child_id=seeded.child_a)


async def test_answering_a_wish(
    app: FastAPI, seeded: Seeded, web_db: sessionmaker[Session]
) -> None:
    client, csrf = await signed_in(app, "sanne@example.org")
    url = f"/portal/child/{seeded.child_a}/follow-up/{seeded.wish_follow_up}/answer"
    # "kan niet" needs a reason.
    refused = await client.post(url, data={"csrf": csrf, "status": "kan_niet", "text": " "})
    assert "error=reason_needed" in refused.headers["location"]
    page = await client.get(refused.headers["location"])
    assert "Bij &#34;kan niet&#34; hoort altijd een uitleg" in page.text
    # Without the CSRF token: refused, nothing stored.
    assert (await client.post(url, data={"status": "gedaan", "text": "x"})).status_code == 400
    answer = "Ik heb met je oma gebeld: <i>volgende week</i> mag je logeren!"
    done = await client.post(url, data={"csrf": csrf, "status": "gedaan", "text": answer})
    assert done.status_code == 303
    with web_db.begin() as session:
        reply = session.scalars(select(FollowUpReply)).one()
        assert (reply.status, reply.text, reply.signed_as) == ("gedaan", answer, "Sanne")
    page = await client.get(f"/portal/child/{seeded.child_a}")
    assert "&lt;i&gt;volgende week&lt;/i&gt;" in page.text


async def test_pdf_of_the_shared_summary(app: FastAPI, seeded: Seeded) -> None:
    client, _ = await signed_in(app, "sanne@example.org")
    pdf = await client.get(f"/portal/child/{seeded.child_a}/summary.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"


@pytest.mark.parametrize(
    ("web_env", "offered"),
    [
        ({"TELEGRAM_BOT_USERNAME": "mijnstem_bot"}, False),  # from 16, the default
        ({"TELEGRAM_BOT_USERNAME": "mijnstem_bot", "TELEGRAM_MIN_AGE": "12"}, True),
    ],
)
async def test_the_letter_offers_telegram_from_the_configured_age(
    app: FastAPI, seeded: Seeded, offered: bool
) -> None:
    client, csrf = await signed_in(app, "sanne@example.org")
    letter = await client.post(f"/portal/child/{seeded.child_a}/invite", data={"csrf": csrf})
    assert letter.status_code == 200
    assert ("https://t.me/mijnstem_bot?start=" in letter.text) is offered  # Lisa is 12


async def test_new_invite_letter(app: FastAPI, seeded: Seeded) -> None:
    client, csrf = await signed_in(app, "sanne@example.org")
    letter = await client.post(f"/portal/child/{seeded.child_a}/invite", data={"csrf": csrf})
    assert letter.status_code == 200
    code = re.search(r'id="invite-code">([A-Z0-9-]+)<', letter.text).group(1)  # type: ignore[union-attr]
    assert len(code) == 9 and "data:image/png;base64," in letter.text
    assert "Telegram" not in letter.text  # Lisa is 12: the web chat only


async def test_moving_a_child_keeps_history(
    app: FastAPI, seeded: Seeded, web_db: sessionmaker[Session]
) -> None:
    client, csrf = await signed_in(app, "sanne@example.org")
    moved = await client.post(
        f"/portal/child/{seeded.child_a}/assign",
        data={"csrf": csrf, "caseworker_id": str(seeded.piet)},
    )
    assert moved.headers["location"] == "/portal/"  # no longer Sanne's
    assert (await client.get(f"/portal/child/{seeded.child_a}")).status_code == 403
    piet, _ = await signed_in(app, "piet@example.org")
    page = await piet.get(f"/portal/child/{seeded.child_a}")
    assert page.status_code == 200 and "Sanne de Vries" in page.text and "Piet Jansen" in page.text


# --- authorisation: every portal route -------------------------------------------------

CHILD_ROUTES = [
    ("GET", "/portal/child/{child}"),
    ("GET", "/portal/child/{child}/circle.svg"),
    ("GET", "/portal/child/{child}/summary.pdf"),
    ("POST", "/portal/child/{child}/read"),
    ("POST", "/portal/child/{child}/follow-up/{follow_up}/answer"),
    ("POST", "/portal/child/{child}/invite"),
    ("POST", "/portal/child/{child}/assign"),
    ("POST", "/portal/alerts/{alert}/ack"),
]
TEAM_ROUTES = [
    ("GET", "/portal/team"),
    ("GET", "/portal/team/report"),
    ("GET", "/portal/team/audit"),
]
ADMIN_ROUTES = [
    ("GET", "/portal/admin"),
    ("POST", "/portal/admin/accounts"),
    ("POST", "/portal/admin/accounts/{account}"),
]
OPEN_ROUTES = [  # the sign-in steps themselves, and pages every signed-in user has
    ("GET", "/portal"),
    ("GET", "/portal/"),
    ("GET", "/portal/login"),
    ("POST", "/portal/login"),
    ("GET", "/portal/login/totp"),
    ("POST", "/portal/login/totp"),
    ("GET", "/portal/account/totp"),
    ("POST", "/portal/account/totp"),
    ("POST", "/portal/logout"),
]


def test_every_portal_route_is_in_the_matrix() -> None:
    routes = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/portal")
        for method in route.methods
    }
    normalised = {(m, re.sub(r"\{(\w+?)_id\}", r"{\1}", p)) for m, p in routes}
    assert normalised == set(CHILD_ROUTES + TEAM_ROUTES + ADMIN_ROUTES + OPEN_ROUTES)


def test_every_child_route_checks_access_through_one_provider() -> None:
    """Each /portal/child route gets its child through `child_access(action)`, so none
    can skip the access check; the 403 test below checks what the check does."""
    from bot.web.routers import portal_child

    for route in portal_child.router.routes:
        assert isinstance(route, APIRoute)
        providers = [d.call for d in route.dependant.dependencies]
        assert any(
            getattr(call, "__qualname__", "") == "child_access.<locals>.provide"
            for call in providers
        ), route.path


def _fill(path: str, seeded: Seeded, alert: int) -> str:
    return path.format(
        child=seeded.child_a, follow_up=seeded.wish_follow_up, alert=alert, account=seeded.sanne
    )


@pytest.fixture
def alert_id(seeded: Seeded, web_db: sessionmaker[Session]) -> int:
    from bot.storage.models import Alert

    with web_db.begin() as session:
        alert = Alert(child_id=seeded.child_a, sender_hash="x", channel="web", category="danger")
        session.add(alert)
        session.flush()
        return alert.id


async def test_a_second_caseworker_is_refused_and_audited(
    app: FastAPI, seeded: Seeded, alert_id: int, web_db: sessionmaker[Session]
) -> None:
    piet, csrf = await signed_in(app, "piet@example.org")
    for method, path in CHILD_ROUTES:
        url = _fill(path, seeded, alert_id)
        response = await piet.request(
            method,
            url,
            data={"csrf": csrf, "status": "gedaan", "text": "x", "caseworker_id": str(seeded.piet)}
            if method == "POST"
            else None,
        )
        assert response.status_code == 403, (method, url)
        assert "Geen toegang" in response.text and SHARED_WISH not in response.text
    refused = audit_rows(web_db, actor_id=seeded.piet, allowed=False)
    assert len(refused) == len(CHILD_ROUTES)
    assert all(r.child_id == seeded.child_a for r in refused)
    # Nothing changed: no reply, the child still Sanne's, the alert still open.
    with web_db.begin() as session:
        assert session.scalars(select(FollowUpReply)).all() == []
    sanne, _ = await signed_in(app, "sanne@example.org")
    assert (await sanne.get(f"/portal/child/{seeded.child_a}")).status_code == 200
    assert "Melding #" in (await sanne.get("/portal/")).text


async def test_roles_for_team_and_admin_pages(
    app: FastAPI, seeded: Seeded, alert_id: int, web_db: sessionmaker[Session]
) -> None:
    sanne, csrf = await signed_in(app, "sanne@example.org")
    for method, path in TEAM_ROUTES + ADMIN_ROUTES:
        url = _fill(path, seeded, alert_id)
        data = (
            {
                "csrf": csrf,
                "action": "deactivate",
                "email": "x@example.org",
                "name": "X",
                "role": "admin",
            }
            if method == "POST"
            else None
        )
        response = await sanne.request(method, url, data=data)
        assert response.status_code == 403, (method, url)
    assert len(audit_rows(web_db, actor_id=seeded.sanne, allowed=False)) == len(
        TEAM_ROUTES + ADMIN_ROUTES
    )
    with web_db.begin() as session:
        assert accounts.get_by_email(session=session, email="x@example.org") is None

    # The admin manages accounts and sees no child content.
    admin, admin_csrf = await signed_in(app, "admin@example.org")
    assert (await admin.get("/portal/")).headers["location"] == "/portal/admin"
    for method, path in CHILD_ROUTES + TEAM_ROUTES:
        url = _fill(path, seeded, alert_id)
        response = await admin.request(
            method, url, data={"csrf": admin_csrf} if method == "POST" else None
        )
        assert response.status_code == 403, (method, url)
        assert SHARED_WISH not in response.text
    accounts_page = await admin.get("/portal/admin")
    assert "sanne@example.org" in accounts_page.text and SHARED_WISH not in accounts_page.text

    # The team lead sees the team's children and the team pages, not the admin's.
    lead, lead_csrf = await signed_in(app, "lead@example.org")
    assert (await lead.get(f"/portal/child/{seeded.child_a}")).status_code == 200
    for method, path in TEAM_ROUTES:
        assert (await lead.request(method, _fill(path, seeded, alert_id))).status_code == 200
    for method, path in ADMIN_ROUTES:
        response = await lead.request(
            method,
            _fill(path, seeded, alert_id),
            data={"csrf": lead_csrf} if method == "POST" else None,
        )
        assert response.status_code == 403
    audit_page = await lead.get("/portal/team/audit")
    assert "Piet Jansen" in audit_page.text or "Sanne de Vries" in audit_page.text


async def test_signed_out_visitors_go_to_the_login(
    app: FastAPI, seeded: Seeded, alert_id: int
) -> None:
    client = new_client(app)
    for method, path in CHILD_ROUTES + TEAM_ROUTES + ADMIN_ROUTES:
        response = await client.request(method, _fill(path, seeded, alert_id))
        assert response.status_code == 303, (method, path)
        assert response.headers["location"] == "/portal/login"


async def test_an_idle_session_ends(
    app: FastAPI, seeded: Seeded, web_db: sessionmaker[Session]
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from bot.portal import sessions
    from bot.storage.models import PortalSession, utcnow

    client, _ = await signed_in(app, "sanne@example.org")
    assert (await client.get("/portal/")).status_code == 200
    with web_db.begin() as session:
        session.execute(
            update(PortalSession).values(
                last_seen_at=utcnow() - sessions.IDLE - timedelta(minutes=1)
            )
        )
    assert (await client.get("/portal/")).headers["location"] == "/portal/login"
    with web_db.begin() as session:
        assert session.scalars(select(PortalSession)).all() == []
        # The worker's purge removes what no request came back for.
        session.add(
            PortalSession(
                token_hash="x" * 64,
                caseworker_id=seeded.sanne,
                stage="ok",
                csrf_token="c",
                created_at=utcnow() - sessions.MAX_AGE * 2,
                last_seen_at=utcnow(),
            )
        )
    with web_db.begin() as session:
        assert sessions.purge_expired(session=session) == 1


async def test_outside_development_leads_and_admins_must_enrol_totp(
    web_settings: Settings,
    web_db: sessionmaker[Session],
    seeded: Seeded,
    secrets_env: dict[str, str],
    tmp_path: Path,
    fake_rasa: FakeRasa,
) -> None:
    production = load_settings(
        {
            **make_test_env(
                tmp_path / "prod-var",
                RASA_URL=fake_rasa.url,
                ACTION_PORT=str(fake_rasa.port),
                DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
                PUBLIC_WEB_URL=BASE,
                MIJNSTEM_ACTION_SECRET=secrets.token_urlsafe(32),
                **secrets_env,
            ),
            "MIJNSTEM_ENV": "production",
        }
    )
    assert not production.is_development
    application = create_app(production, sessions=web_db)
    async with application.router.lifespan_context(application):
        lead = new_client(application)
        first = await login(lead, "lead@example.org")
        assert first.headers["location"] == "/portal/account/totp"
        for path in ("/portal/", "/portal/team", f"/portal/child/{seeded.child_a}"):
            assert (await lead.get(path)).headers["location"] == "/portal/account/totp"
        page = await lead.get("/portal/account/totp")
        assert "verplicht" in page.text
        secret = re.search(r"<code>([A-Z2-7]+)</code>", page.text).group(1)  # type: ignore[union-attr]
        done = await lead.post(
            "/portal/account/totp", data={"csrf": csrf_of(page), "code": pyotp.TOTP(secret).now()}
        )
        assert done.headers["location"] == "/portal/"
        assert (await lead.get("/portal/team")).status_code == 200
        # A caseworker is not forced (TOTP stays available to them).
        sanne = new_client(application)
        assert (await login(sanne, "sanne@example.org")).headers["location"] == "/portal/"


async def test_feelings_and_checkin_answers_are_marked(
    app: FastAPI, seeded: Seeded, web_db: sessionmaker[Session]
) -> None:
    """Issue 11: a shared feeling shows with its emoji and the child's words; a
    check-in's answers are marked with the check-in (its date, and which question)."""
    from datetime import date

    from bot.storage import loop, repo

    with web_db.begin() as session:
        child = repo.get_child(session=session, child_id=seeded.child_a)
        loop.add_child_message(session=session, child=child, kind="feeling",
                               feeling="zenuwachtig", text="morgen een toets")
        checkin = loop.plan_checkin(session=session, child=child, due_on=date(2026, 12, 14),
                                    about="evaluatie zorgplan")
        loop.add_child_message(session=session, child=child, kind="checkin",
                               checkin_id=checkin.id, part="discuss",
                               text="vaker naar papa <b>graag</b>")
    client, _ = await signed_in(app, "sanne@example.org")
    page = await client.get(f"/portal/child/{seeded.child_a}")
    assert page.status_code == 200
    assert "Gevoel" in page.text and "😬 zenuwachtig" in page.text
    assert "morgen een toets" in page.text
    assert "Check-in voor 14-12-2026: wat besproken moet worden" in page.text
    assert "check-in voor 14-12-2026: wat besproken moet worden" in page.text
    assert "vaker naar papa &lt;b&gt;graag&lt;/b&gt;" in page.text
    # Like any message: each has its answer form.
    assert page.text.count('class="answer no-print"') >= 2
