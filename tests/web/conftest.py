from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings, load_settings
from bot.storage import migrate
from bot.storage.db import make_engine, make_session_factory
from bot.web.app import create_app
from tests.conftest import make_test_env
from tests.web.fake_rasa import FakeRasa

CODE = "K7MP-Q2XR"


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()
    yield fake
    fake.stop()


@pytest.fixture
def web_env() -> dict[str, str]:
    """More environment for the app's settings; a test overrides it with
    `@pytest.mark.parametrize("web_env", [{...}])`."""
    return {}


@pytest.fixture
def web_settings(tmp_path: Path, fake_rasa: FakeRasa, web_env: dict[str, str]) -> Settings:
    return load_settings(
        make_test_env(
            tmp_path / "var",
            RASA_URL=fake_rasa.url,
            ACTION_PORT=str(fake_rasa.port),
            DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}",
            **web_env,
        )
    )


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test gets a copy (much faster than migrating every time)."""
    folder = tmp_path_factory.mktemp("web-db")
    path = folder / "template.db"
    settings = load_settings(make_test_env(folder / "var", DATABASE_URL=f"sqlite:///{path}"))
    engine = make_engine(settings)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def web_db(
    web_settings: Settings, migrated_template: Path, tmp_path: Path
) -> Iterator[sessionmaker[Session]]:
    shutil.copyfile(migrated_template, tmp_path / "app.db")
    engine = make_engine(web_settings)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
async def client(
    web_settings: Settings, web_db: sessionmaker[Session]
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in process (lifespan included), talking to the fake Rasa over HTTP."""
    app = create_app(web_settings, sessions=web_db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            # https: the chat's cookies are `__Host-` (Secure), which httpx (like any
            # client) sends over https only; browsers also send them to localhost.
            transport=transport,
            base_url=web_settings.public_web_url.replace("http://", "https://"),
            follow_redirects=True,
        ) as http:
            yield http


async def open_chat(client: httpx.AsyncClient, code: str = CODE) -> httpx.Response:
    """Follow an invite link and press "Beginnen", as the child does."""
    link = await client.get(f"/chat?code={code}")
    assert link.status_code == 200, link.text
    return await client.post("/chat/start", data={"code": code})
