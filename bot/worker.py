"""`python -m bot worker`: periodic jobs (alert escalation, retention purges).

Each job is `module:function(settings, sessions) -> None`, imported lazily and run
every `interval` seconds; a failing job is logged and retried next round, never
taking the others down.
"""

from __future__ import annotations

import importlib
import logging
import signal
import time
from dataclasses import dataclass

from bot.settings import Settings
from bot.storage.db import make_engine, make_session_factory

log = logging.getLogger("mijnstem.worker")


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function"
    interval: float  # seconds


JOBS: tuple[Job, ...] = (
    Job("escalate unacknowledged alerts", "bot.safety.escalation:run_once", 30),
    Job("purge expired data", "bot.privacy.retention:run_once", 3600),
    Job("purge idle web chat sessions", "bot.web.store:purge_once", 3600),
    Job("purge expired portal sessions", "bot.portal.sessions:purge_once", 3600),
    Job("answer loop: late answers and e-mail notices", "bot.loop.jobs:run_once", 60),
)


def _load(target: str):  # type: ignore[no-untyped-def]
    module_name, func = target.split(":")
    try:
        return getattr(importlib.import_module(module_name), func)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None  # not built yet in this version
        raise


def run(settings: Settings, args: object = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = make_engine(settings)
    sessions = make_session_factory(engine)
    jobs = [(job, fn) for job in JOBS if (fn := _load(job.target)) is not None]
    next_run = {job.name: 0.0 for job, _ in jobs}
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping:
        now = time.monotonic()
        for job, fn in jobs:
            if now >= next_run[job.name]:
                try:
                    fn(settings, sessions)
                except Exception:  # noqa: BLE001 - one job's failure must not stop the rest
                    log.exception("job failed: %s", job.name)
                next_run[job.name] = now + job.interval
        time.sleep(0.5)
    engine.dispose()
    return 0
