"""Several Rasa servers starting at once on one PostgreSQL database all create the
tracker tables: the first does, the others wait and find them (tests/scale starts two)."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from bot.privacy import tracker_events
from tests.support.postgres import PostgresServer


def test_concurrent_starts_create_the_tracker_tables_once(postgres: PostgresServer):
    url = postgres.create_database("tracker_schema_race")
    engines = [sa.create_engine(url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine: sa.engine.Engine) -> None:
        try:
            with engine.begin() as conn:
                barrier.wait(timeout=30)
                tracker_events.ensure_schema(conn)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        with engines[0].connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
        assert {t.name for t in tracker_events.metadata.sorted_tables} <= tables
    finally:
        for engine in engines:
            engine.dispose()
