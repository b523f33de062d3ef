"""`make bench`: Mijn Stem side by side with a stock `rasa init` bot, in one run.

Both bots are built and measured here, on this machine, on loopback:

- training time from scratch (`rasa train` into an empty folder), time from start to the
  first answer, and the peak memory (VmHWM) of every process;
- one chat alone and 20 chats in a closed loop, on whole conversations (a teenager's
  interview for ours, the mood-bot stories for stock), never one message repeated:
  messages per second and p50/p95/p99;
- capacity: chats that each send a message every 10 s, stepped up until p95 passes
  300 ms; the capacity is the largest step that passed. A step runs STEP_PERIODS
  periods of 10 s: each chat sends one message per period, at its own fixed offset in
  the period (spread evenly over it), so the load is N/10 messages per second from the
  step's first second; the chats go on with their conversations from step to step, and
  a step is judged once all its messages are answered. A step that sent nothing is an
  error, never a figure;
- ours also over the full Telegram path: the fake Bot API (tests/fakes/telegram_api.py)
  on loopback, the real bridge process, Rasa, the action server and the database, with
  16-year-olds (Telegram's minimum age; younger children are sent to the web chat).

Correctness under load is checked on the way: every message answered, in order within
its chat, no answer in another chat (REST: `recipient_id`; Telegram: each chat's
transcript is exactly the one a lone chat gets), and every wish and answer in the
database. The stock bot is the set of files `rasa init` writes (rasa/cli/initial_project
of the installed Rasa), copied once into ~/.cache/mijnstem/ and trained fresh each run.

Prints one table with the ratios to stock and each target of issue 10 met or not, and
writes var/bench.json (with the time of each phase). A full run should take 8-9
minutes on a quiet 2-core machine (estimated from reduced runs); the capacity search
skips steps that would not fit in 10 minutes (the table then shows ">=N"). Noisy on a
shared machine: compare ratios from one run, not figures from different runs.
Correctness under load is also checked over REST: every finished conversation's
answers are the lone chat's.

    .venv/bin/python -m scripts.bench [--quick] [--chats N] [--levels 10,25,50]
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from telegram.constants import FloodLimit

from bot import invites
from bot.age import age_group
from bot.model import RASA_BIN, RASA_CLI, rasa_env
from bot.settings import PROJECT_ROOT, Settings
from bot.storage import repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Answer, Invite, Wish
from tests.e2e.stack import Stack, free_port, private_model, start_stack
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI

# The bridge's AIORateLimiter (bot/telegram/app.py) sends at most this many messages per
# second in all: PTB's default, Telegram's limit for a bot.
TELEGRAM_MESSAGES_PER_SECOND = int(FloodLimit.MESSAGES_PER_SECOND)


def _option(name: str) -> str | None:
    """`--name value` from the command line (make bench passes none)."""
    if name in sys.argv[:-1]:
        return sys.argv[sys.argv.index(name) + 1]
    return None


# --quick: a smoke run of the bench itself (tiny, no training when the stock model is
# cached). --chats N and --levels A,B,C: a reduced run, to time the parts of a full one.
QUICK = "--quick" in sys.argv
CHATS = int(_option("--chats") or (3 if QUICK else 20))
PERIOD = 10.0  # capacity: each chat sends a message every PERIOD seconds
P95_LIMIT = 0.300
LEVELS = tuple(int(n) for n in (_option("--levels") or "").split(",") if n) or (
    (5, 10) if QUICK else (10, 25, 50, 100, 150, 200, 300, 400, 600))
MAX_CHATS = LEVELS[-1]
# Periods per capacity step, i.e. messages per chat per step. One: with up to nine steps
# per bot, two would not fit the 10 minutes; the chats carry on from step to step, so a
# step after the first is mostly chats in the middle of their conversations.
STEP_PERIODS = 1
# A chat's offset in the period: the golden-ratio sequence spreads any first N chats
# evenly over the period, so a step's load is even whichever N it has.
GOLDEN = (5 ** 0.5 - 1) / 2
# A chat that finished its conversation starts a new one under a new sender.
ROUND_STRIDE = 1_000_000
# The whole run must finish within 10 minutes (issue 10): the capacity search skips
# steps that would not fit (and says so) rather than overrun.
BUDGET_SECONDS = 600.0
# What the run needs after the stock bot's capacity search, and after ours (measured on
# this machine, with some margin): the stock bot's search must leave ours its time.
AFTER_STOCK_CAPACITY = 270.0
AFTER_OUR_CAPACITY = 120.0
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mijnstem"
RESULT = PROJECT_ROOT / "var" / "bench.json"

# A teenager's whole interview (as in tests/e2e/test_interview.py): wishes, people with
# rings and contact, trusted person, own say, continuity, being heard, per-item sharing.
OURS = [
    "hoi", "ik wil zelf bepalen wanneer ik mijn vader zie", "en ik wil rijles als ik 17 ben",
    "nee", "mijn vriend mo en mijn mentor", "klopt", "binnenste", "dagelijks", "evenveel",
    "3", "maandelijks", "minder", "nee", "nee", "nee", "wie er bij mijn gesprekken is",
    "overslaan", "ik ben verhuisd naar een gezinshuis", "dat ik meer zelf wil beslissen",
    "1 3 5",
]
OUR_WISHES = OURS[1:3]
# The stock bot's stories (rasa/cli/initial_project/data/stories.yml), each step in
# several of the words its NLU data was trained on.
STOCK_STEPS = [
    ["hello", "hey there", "good morning", "hi", "good evening"],
    ["I am sad", "very sad", "unhappy", "sad", "I am disappointed"],
    ["yes", "of course", "indeed", "correct", "that sounds good"],
    ["are you a bot?", "am I talking to a bot?", "are you a human?", "are you a bot?",
     "am I talking to a human?"],
    ["hey", "hello there", "good afternoon", "hey dude", "let's go"],
    ["great", "perfect", "I am feeling very good", "amazing", "wonderful"],
    ["bye", "goodbye", "see you later", "good night", "bye bye"],
]


def stock_conversation(index: int) -> list[str]:
    return [step[(index + n) % len(step)] for n, step in enumerate(STOCK_STEPS)]


class BenchError(RuntimeError):
    """The bench measured nothing where it should have: a bug of the bench or a dead bot,
    never a figure."""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        raise BenchError("a percentile of no measurements")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    if not latencies:
        raise BenchError("no message was answered")
    return {
        "messages": len(latencies),
        "msg_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
    }


def peak_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


# --- the bots --------------------------------------------------------------------------


@dataclass
class Bot:
    name: str
    webhook: str
    processes: dict[str, subprocess.Popen[bytes]]
    conversation: Callable[[int], list[str]]
    stop: Callable[[], None]
    errors: list[str] = field(default_factory=list)


def stock_project() -> Path:
    """The files `rasa init` writes, from the installed Rasa, copied once."""
    version = subprocess.run(
        [str(RASA_BIN.parent / "python"), "-c", "import rasa; print(rasa.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    project = CACHE / f"stock-rasa-{version}"
    if not (project / "config.yml").exists():
        source = subprocess.run(
            [str(RASA_BIN.parent / "python"), "-c",
             "import rasa.cli, pathlib; print(pathlib.Path(rasa.cli.__file__).parent"
             " / 'initial_project')"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        project.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, project, dirs_exist_ok=True)
    return project


def train(command: list[str], cwd: Path, out: Path, *extra: str) -> float:
    """Training from scratch: an empty cache of its own, since Rasa otherwise restores
    unchanged components from the project's .rasa/cache (and `make train` just filled
    ours)."""
    started = time.monotonic()
    subprocess.run(
        [*command, "train", *extra, "--out", str(out), "--fixed-model-name", "bench"],
        cwd=cwd, env={**rasa_env(), "RASA_CACHE_DIRECTORY": str(out / "rasa-cache")},
        check=True, capture_output=True,
    )
    return round(time.monotonic() - started, 1)


def wait_ready(url: str, sender: str, first: str, deadline: float, procs: list[Any]) -> None:
    body = json.dumps({"sender": sender, "message": first}).encode()
    while True:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a process exited early ({proc.args[:3]})")
        try:
            request = urllib.request.Request(
                url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                if json.load(response):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready: {url}")
        time.sleep(0.2)


def start_stock(project: Path, model: Path, log_dir: Path) -> tuple[Bot, float]:
    port = free_port()
    log = open(log_dir / "stock-rasa.log", "wb")  # noqa: SIM115 - closed with the process
    started = time.monotonic()
    process = subprocess.Popen(
        [str(RASA_BIN), "run", "--model", str(model), "--port", str(port),
         "--interface", "127.0.0.1"],
        cwd=project, env=rasa_env(), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    webhook = f"http://127.0.0.1:{port}/webhooks/rest/webhook"

    def stop() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        log.close()

    try:
        wait_ready(webhook, "ready-probe", "hello", started + 600, [process])
    except BaseException:
        stop()
        raise
    ready = round(time.monotonic() - started, 1)
    return Bot("stock", webhook, {"rasa": process}, stock_conversation, stop), ready


def make_invites(settings: Settings, count: int, age: int = 15) -> list[str]:
    """Invite codes for teenagers (15: the 14-18 age band), straight into the database
    (the CLI is one process per code)."""
    engine = make_engine(settings)
    codes = []
    try:
        with make_session_factory(engine).begin() as session:
            for _ in range(count):
                child = repo.create_child(session=session, display_name=None, age=age,
                                          age_group=age_group(age), caseworker=None)
                code = invites.new_code()
                repo.create_invite(session=session, child=child,
                                   code_hash=invites.code_hash(settings.pseudonym_secret, code),
                                   ttl=timedelta(days=1))
                codes.append(code)
    finally:
        engine.dispose()
    return codes


def start_ours(var_dir: Path) -> tuple[Bot, Stack, float]:
    # The model first, outside the clock: models/ is shared, and when another checkout's
    # training pruned ours, ensure_model retrains it (that is training, not start-up).
    var_dir.mkdir(parents=True, exist_ok=True)
    private_model(var_dir)
    started = time.monotonic()
    stack = start_stack(var_dir)
    code = make_invites(stack.settings, 1)[0]
    wait_ready(stack.webhook, "bench-ready", f"/start {code}", started + 600, stack.processes)
    ready = round(time.monotonic() - started, 1)
    # Every conversation is a new child's: the capacity chats, the lone chat's two and
    # the closed loop's, and some to spare for chats that finish theirs.
    codes = iter(make_invites(stack.settings, MAX_CHATS + 3 * CHATS + 50))
    starts: dict[int, str] = {}

    def conversation(index: int) -> list[str]:
        if index not in starts:
            code = next(codes, None)
            if code is None:
                raise BenchError("out of invite codes: make_invites needs more")
            starts[index] = code
        return [f"/start {starts[index]}", *OURS]

    processes = {"actions": stack.parts["action server"].process,
                 "rasa": stack.parts["rasa"].process}
    bot = Bot("ours", stack.webhook,
              {name: p for name, p in processes.items() if p is not None},
              conversation, stack.stop)
    return bot, stack, ready


# --- load over REST ----------------------------------------------------------------------


class RestLoad:
    def __init__(self, bot: Bot, prefix: str) -> None:
        self.bot = bot
        self.prefix = prefix
        self.position: dict[int, int] = {}
        self.transcripts: dict[int, list[list[str]]] = {}
        self.errors: list[str] = []

    def sender(self, index: int) -> str:
        return f"{self.prefix}-{index}"

    async def say(self, http: httpx.AsyncClient, index: int) -> float | None:
        """The chat's next message; its latency, or None when it was not answered. A
        chat at the end of its conversation begins a new one under a new sender."""
        position = self.position.get(index, 0)
        self.position[index] = position + 1
        length = len(self.bot.conversation(index))
        rounds, step = divmod(position, length)
        key = index + ROUND_STRIDE * rounds
        text = self.bot.conversation(key)[step]
        sender = self.sender(key)
        started = time.monotonic()
        try:
            response = await http.post(self.bot.webhook, json={"sender": sender, "message": text})
            latency = time.monotonic() - started
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            self.errors.append(f"{sender}: {type(exc).__name__}")
            return None
        if response.status_code != 200 or not isinstance(body, list) or not body:
            self.errors.append(f"{sender}: not answered (HTTP {response.status_code})")
            return None
        if any(m.get("recipient_id") != sender for m in body if isinstance(m, dict)):
            self.errors.append(f"{sender}: an answer for another chat")
        self.transcripts.setdefault(key, []).append(
            [str(m.get("text") or "") for m in body if isinstance(m, dict)])
        return latency

    async def closed_loop(self, workers: list[list[int]]) -> dict[str, float]:
        """One worker per list, running the chats of its list one after the other, each
        through its whole conversation; a chat's next message goes when it is answered."""
        latencies: list[float] = []

        async def worker(http: httpx.AsyncClient, chats: list[int]) -> None:
            for index in chats:
                for _ in self.bot.conversation(index):
                    latency = await self.say(http, index)
                    if latency is not None:
                        latencies.append(latency)

        async with _client(len(workers)) as http:
            started = time.monotonic()
            await asyncio.gather(*(worker(http, chats) for chats in workers))
            elapsed = time.monotonic() - started
        return summary(latencies, elapsed)

    async def paced_step(self, http: httpx.AsyncClient, chats: int,
                         first: int) -> dict[str, Any]:
        """One capacity step: chats first .. first+chats-1 each send STEP_PERIODS
        messages, one per PERIOD at the chat's own offset in it (a chat whose answer
        came late sends its next message when it has it: never two at once). Returns
        once every message of the step is answered or has failed."""
        latencies: list[float] = []
        unanswered = 0
        errors_before = len(self.errors)
        started = time.monotonic()

        async def chat(n: int) -> None:
            nonlocal unanswered
            offset = (n * GOLDEN) % 1.0 * PERIOD
            for period in range(STEP_PERIODS):
                await asyncio.sleep(max(0.0, started + offset + period * PERIOD
                                        - time.monotonic()))
                latency = await self.say(http, first + n)
                if latency is None:
                    unanswered += 1
                else:
                    latencies.append(latency)

        await asyncio.gather(*(chat(n) for n in range(chats)))
        elapsed = time.monotonic() - started
        sent = len(latencies) + unanswered
        if sent != chats * STEP_PERIODS:
            raise BenchError(f"capacity step of {chats} chats sent {sent} messages, "
                             f"not {chats * STEP_PERIODS}")
        if not latencies:
            raise BenchError(f"capacity step of {chats} chats: no message was answered "
                             f"({'; '.join(self.errors[errors_before:][:3])})")
        result: dict[str, Any] = {**summary(latencies, elapsed), "unanswered": unanswered,
                                  "seconds": round(elapsed, 1)}
        return result

    async def capacity(self, deadline: float) -> dict[str, Any]:
        """Step the number of pacing chats up until a step's p95 passes the limit (or a
        message is not answered); the capacity is the largest step that passed. Steps
        that would end after `deadline` are not run, and the result says so."""
        steps: list[dict[str, Any]] = []
        capacity = 0
        cut_short = False
        first = 10_000  # chats of their own, beginning their conversations
        async with _client(MAX_CHATS) as http:
            for level in LEVELS:
                if time.monotonic() + STEP_PERIODS * PERIOD + 5 > deadline:
                    cut_short = True
                    print(f"  {self.bot.name}: capacity search stopped at {capacity} chats: "
                          "out of the bench's time budget", flush=True)
                    break
                result = await self.paced_step(http, level, first)
                passed = result["p95_ms"] <= P95_LIMIT * 1000 and not result["unanswered"]
                steps.append({"chats": level, **result, "passed": passed})
                print(f"  {self.bot.name}: {level} chats, 1 message each per {PERIOD:.0f} s: "
                      f"{result['messages']} messages, p95 {result['p95_ms']} ms, "
                      f"{result['unanswered']} unanswered: {'ok' if passed else 'over'}",
                      flush=True)
                if not passed:
                    break
                capacity = level
        return {"chats": capacity, "steps": steps, "cut_short": cut_short,
                "limit_reached": bool(steps) and not steps[-1]["passed"]}


def _client(chats: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=chats + 10, max_keepalive_connections=chats + 10)
    return httpx.AsyncClient(timeout=120, limits=limits, trust_env=False)


def check_ours_stored(stack: Stack, codes: list[str]) -> list[str]:
    """Every wish and open answer of a finished interview (named by its invite code) is
    in the database."""
    problems = []
    engine = make_engine(stack.settings)
    try:
        with make_session_factory(engine).begin() as session:
            for index, code in enumerate(codes):
                invite = session.scalar(select(Invite).where(
                    Invite.code_hash == invites.code_hash(stack.settings.pseudonym_secret, code)))
                if invite is None:
                    problems.append(f"chat {index}: invite not found")
                    continue
                wishes = list(session.scalars(
                    select(Wish.text).where(Wish.child_id == invite.child_id).order_by(Wish.id)))
                answers = session.scalar(
                    select(func.count()).select_from(Answer)
                    .where(Answer.child_id == invite.child_id))
                if wishes != OUR_WISHES or not answers:
                    problems.append(f"chat {index}: stored {len(wishes)} wishes, "
                                    f"{answers} answers")
    finally:
        engine.dispose()
    return problems


# --- ours over the Telegram path --------------------------------------------------------


class TelegramPath:
    """The fake Bot API (in this process) and the bridge process (`python -m bot
    telegram`) in front of a running stack, and the chats that are driven through them,
    one thread each. A turn is complete when the chat has all the messages a lone chat
    got for it."""

    def __init__(self, stack: Stack, log_dir: Path) -> None:
        self.api = FakeTelegramAPI().start()
        env = {**stack.env, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": self.api.base_url,
               "TELEGRAM_RETRY_SECONDS": "1"}
        self._log = open(log_dir / "bridge.log", "wb")  # noqa: SIM115 - closed in stop()
        self.bridge = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "bot", "telegram"],
            cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_polling(self) -> None:
        self.api.wait_for(lambda: self.api.polls > 0, timeout=120)

    def stop(self) -> None:
        try:
            os.killpg(self.bridge.pid, signal.SIGTERM)
            self.bridge.wait(timeout=30)
        finally:
            self._log.close()
            self.api.stop()

    def run_chat(self, chat: int, code: str, expected: list[int] | None,
                 latencies: list[float]) -> list[int]:
        """The interview in one chat; the number of bot messages of each turn."""
        api = self.api
        counts = []
        for text in [f"/start {code}", *OURS]:
            before = len(api.messages_to(chat))
            started = time.monotonic()
            api.send_text(chat, text)
            if expected is None:
                # The lone chat: its answer is complete when no more come; the
                # latency is that of the answer's last message.
                settled = api.wait_for_messages(chat, before + 1, settle=0.5)
                sent = [c.at for c in api.calls if c.status == 200
                        and c.method in ("sendMessage", "sendPhoto")
                        and str(c.params.get("chat_id")) == str(chat)]
                latencies.append(max(sent) - started)
                counts.append(len(settled) - before)
            else:
                api.wait_for_count(chat, before + expected[len(counts)], 120)
                latencies.append(time.monotonic() - started)
                counts.append(expected[len(counts)])
        return counts

    def sent(self) -> int:
        """Messages the bot sent (texts and photos) so far."""
        return sum(1 for c in self.api.calls if c.status == 200
                   and c.method in ("sendMessage", "sendPhoto"))

    def transcript(self, chat: int, code: str) -> list[str]:
        # A chat's own invite code is the one thing that may differ.
        return [text.replace(code, "<code>") for text in self.api.texts_to(chat)]

    def closed_loop(self, chats: dict[int, str],
                    expected: list[int]) -> tuple[list[float], float, list[str]]:
        """Every chat (id -> invite code) runs the interview at once, a thread each:
        the latencies, the time it took, and the chats not answered in time."""
        latencies: list[float] = []
        failures: list[str] = []

        def concurrent_chat(chat: int, code: str) -> None:
            try:
                self.run_chat(chat, code, expected, latencies)
            except TimeoutError:
                failures.append(f"Telegram chat {chat}: not answered within 120 s")

        threads = [threading.Thread(target=concurrent_chat, args=item)
                   for item in chats.items()]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return latencies, time.monotonic() - started, failures


def telegram_run(stack: Stack, log_dir: Path) -> dict[str, Any]:
    """The same interview through the fake Bot API, the bridge, Rasa and the actions."""
    path = TelegramPath(stack, log_dir)
    result: dict[str, Any] = {}
    try:
        # Telegram is for children of telegram_min_age and up (younger ones are sent to
        # the web chat, with their code in the link): the same 14-18 band as over REST.
        codes = make_invites(stack.settings, CHATS + 1,
                             age=max(15, stack.settings.telegram_min_age))
        path.wait_polling()
        lone: list[float] = []
        expected = path.run_chat(900_000, codes[0], None, lone)
        reference = path.transcript(900_000, codes[0])
        result["one_chat"] = summary(lone, sum(lone))
        chats = {900_001 + i: codes[1 + i] for i in range(CHATS)}
        sent = path.sent()
        latencies, elapsed, failures = path.closed_loop(chats, expected)
        result["closed_loop"] = summary(latencies, elapsed)
        # The bridge sends at most TELEGRAM_MESSAGES_PER_SECOND: with several bot
        # messages per answer, that caps the chats' messages per second.
        result["closed_loop"]["bot_messages_per_s"] = round((path.sent() - sent) / elapsed, 1)
        transcripts = {chat: path.transcript(chat, code) for chat, code in chats.items()}
        wrong = [c for c, texts in transcripts.items() if texts != reference]
        result["transcripts_differ"] = len(wrong)
        result["differences"] = [first_difference(reference, transcripts[c]) for c in wrong[:3]]
        result["errors"] = (failures + check_ours_stored(stack, codes))[:20]
        result["bridge_peak_mb"] = peak_mb(path.bridge.pid)
    finally:
        path.stop()
    return result


def rest_transcript(load: RestLoad, index: int, code: str) -> list[str]:
    return [text.replace(code, "<code>") for answer in load.transcripts.get(index, [])
            for text in answer]


def first_difference(reference: list[str], got: list[str]) -> dict[str, Any]:
    """Where a transcript first differs from the lone chat's (the bot's lines only)."""
    at = next((n for n, (a, b) in enumerate(zip(reference, got, strict=False)) if a != b),
              min(len(reference), len(got)))
    return {"at": at, "lengths": [len(reference), len(got)],
            "expected": reference[at:at + 2], "got": got[at:at + 2]}


# --- the run -----------------------------------------------------------------------------


def measure_rest(bot: Bot, prefix: str, rounds: int,
                 deadline: float) -> tuple[dict[str, Any], RestLoad]:
    """`rounds` conversations per chat: about the same number of messages for both bots
    (the stock conversation is 7 messages, ours 21)."""
    load = RestLoad(bot, prefix)
    one = asyncio.run(load.closed_loop([list(range(rounds * 2))]))
    twenty = asyncio.run(load.closed_loop(
        [[100 + i + CHATS * r for r in range(rounds)] for i in range(CHATS)]))
    capacity = asyncio.run(load.capacity(deadline))
    return {"one_chat": one, "closed_loop": twenty, "capacity": capacity}, load


def main() -> int:
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "stock": {}, "ours": {}}
    stock, ours = results["stock"], results["ours"]
    run_started = time.monotonic()
    project = stock_project()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        stock_model = project / "models" / "bench.tar.gz"
        if QUICK and stock_model.exists():
            ours["train_s"] = stock["train_s"] = 0.0
        else:
            print("training both bots from scratch ...", flush=True)
            ours["train_s"] = train(RASA_CLI, PROJECT_ROOT, tmp / "ours", "--domain", "domain")
            stock["train_s"] = train([str(RASA_BIN)], project, tmp / "stock")
            stock_model.parent.mkdir(exist_ok=True)
            shutil.copy(tmp / "stock" / "bench.tar.gz", stock_model)

        phases = results["phases_s"] = {"train": round(time.monotonic() - run_started, 1)}
        print("stock rasa init bot ...", flush=True)
        bot, stock["ready_s"] = start_stock(project, stock_model, tmp)
        try:
            measured, load = measure_rest(
                bot, "stock", rounds=3,
                deadline=run_started + BUDGET_SECONDS - AFTER_STOCK_CAPACITY)
            stock.update(measured)
            stock["errors"] = load.errors[:20]
            stock["peak_mb"] = {"rasa": peak_mb(bot.processes["rasa"].pid)}
        finally:
            bot.stop()
        phases["stock"] = round(time.monotonic() - run_started - sum(phases.values()), 1)

        print("Mijn Stem ...", flush=True)
        bot, stack, ours["ready_s"] = start_ours(tmp / "var")
        try:
            measured, load = measure_rest(
                bot, "ours", rounds=1,
                deadline=run_started + BUDGET_SECONDS - AFTER_OUR_CAPACITY)
            ours.update(measured)
            finished = [0, 1, *range(100, 100 + CHATS)]
            codes = [bot.conversation(index)[0].split()[1] for index in finished]
            ours["errors"] = (load.errors + check_ours_stored(stack, codes))[:20]
            # Over REST too, every whole conversation gets the lone chat's answers.
            code_of = dict(zip(finished, codes, strict=True))
            reference = rest_transcript(load, 0, code_of[0])
            differ = [i for i in finished if rest_transcript(load, i, code_of[i]) != reference]
            ours["transcripts_differ"] = len(differ)
            ours["differences"] = [
                first_difference(reference, rest_transcript(load, i, code_of[i]))
                for i in differ[:3]]
            phases["ours_rest"] = round(time.monotonic() - run_started
                                        - sum(phases.values()), 1)
            print("Mijn Stem over the Telegram path ...", flush=True)
            ours["telegram"] = telegram_run(stack, tmp)
            phases["ours_telegram"] = round(time.monotonic() - run_started
                                            - sum(phases.values()), 1)
            ours["peak_mb"] = {name: peak_mb(p.pid) for name, p in bot.processes.items()}
            ours["peak_mb"]["bridge"] = ours["telegram"].pop("bridge_peak_mb")
        finally:
            bot.stop()
    results["elapsed_s"] = round(time.monotonic() - run_started, 1)
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\n(written to {RESULT.relative_to(PROJECT_ROOT)}; {results['elapsed_s']} s)")
    telegram = ours["telegram"]
    return 0 if not (ours["errors"] or ours["transcripts_differ"] or telegram["errors"]
                     or telegram["transcripts_differ"]) else 1


MEMORY_LIMIT_MB = 1024.0  # Rasa plus the action server: 1 GB (GiB, as VmHWM counts)


def table(r: dict[str, Any]) -> str:
    """The side-by-side table: figures, ratios to stock (>1: ours is better), and each
    target of issue 10 met or not."""
    s, o, t = r["stock"], r["ours"], r["ours"]["telegram"]
    ours_mb = round(o["peak_mb"]["rasa"] + o["peak_mb"]["actions"], 1)
    stock_mb = round(sum(s["peak_mb"].values()), 1)

    def ratio(a: float, b: float, higher_better: bool = True) -> str:
        if not a or not b:
            return "-"
        return f"{(b / a if higher_better else a / b):.2f}x"

    def verdict(*checks: bool) -> str:
        return "met" if all(checks) else "NOT met"

    def chats(capacity: dict[str, Any]) -> str:
        # A search cut short by the time budget only shows a lower bound.
        return f"{'>=' if capacity['cut_short'] else ''}{capacity['chats']}"

    cl = "closed_loop"
    rows = [
        ("1 chat msg/s", s["one_chat"]["msg_per_s"], o["one_chat"]["msg_per_s"],
         t["one_chat"]["msg_per_s"], True, "", ""),
        ("1 chat p95 ms", s["one_chat"]["p95_ms"], o["one_chat"]["p95_ms"],
         t["one_chat"]["p95_ms"], False, "<= 100 ms",
         verdict(o["one_chat"]["p95_ms"] <= 100, t["one_chat"]["p95_ms"] <= 100)),
        (f"{CHATS} chats msg/s", s[cl]["msg_per_s"], o[cl]["msg_per_s"], t[cl]["msg_per_s"],
         True, ">= 2x stock",
         verdict(o[cl]["msg_per_s"] >= 2 * s[cl]["msg_per_s"],
                 t[cl]["msg_per_s"] >= 2 * s[cl]["msg_per_s"])),
        (f"{CHATS} chats p50 ms", s[cl]["p50_ms"], o[cl]["p50_ms"], t[cl]["p50_ms"], False,
         "", ""),
        (f"{CHATS} chats p95 ms", s[cl]["p95_ms"], o[cl]["p95_ms"], t[cl]["p95_ms"], False,
         "", ""),
        (f"{CHATS} chats p99 ms", s[cl]["p99_ms"], o[cl]["p99_ms"], t[cl]["p99_ms"], False,
         "", ""),
        (f"capacity (chats, 1 msg/{PERIOD:.0f} s, p95<=300)", chats(s["capacity"]),
         chats(o["capacity"]), None, True, ">= 300, >= 1.5x",
         verdict(o["capacity"]["chats"] >= 300,
                 o["capacity"]["chats"] >= 1.5 * s["capacity"]["chats"])),
        ("train s", s["train_s"], o["train_s"], None, False, "<= 60 s",
         verdict(0 < o["train_s"] <= 60)),
        ("ready s", s["ready_s"], o["ready_s"], None, False, "<= 30 s",
         verdict(o["ready_s"] <= 30)),
        ("peak MB (Rasa + actions)", stock_mb, ours_mb, None, False,
         f"<= {MEMORY_LIMIT_MB:.0f} MB", verdict(ours_mb <= MEMORY_LIMIT_MB)),
    ]

    def number(x: Any) -> float:
        return float(str(x).lstrip(">="))

    lines = [f"{'':42} {'stock':>8} {'ours REST':>9} {'ratio':>6} {'ours TG':>8} {'ratio':>6}"
             f"  {'target':16} {'':7}"]
    for name, a, b, c, higher, target, met in rows:
        tg = (f"{'':>8} {'':>6}" if c is None
              else f"{c:>8} {ratio(number(a), number(c), higher):>6}")
        lines.append(f"{name:42} {a:>8} {b:>9} {ratio(number(a), number(b), higher):>6} {tg}"
                     f"  {target:16} {met}")
    lines.append(f"peak MB per process: stock {s['peak_mb']}, ours {o['peak_mb']}")
    lines.append(f"Telegram path, {CHATS} chats: {t[cl].get('bot_messages_per_s', '-')} bot "
                 f"messages/s sent; the bridge sends at most {TELEGRAM_MESSAGES_PER_SECOND}/s "
                 "(Telegram's limit for a bot)")
    lines.append(f"errors: stock {len(s['errors'])}, ours REST {len(o['errors'])}, ours "
                 f"Telegram {len(t['errors'])}; transcripts that differ from a lone chat's: "
                 f"REST {o['transcripts_differ']}, Telegram {t['transcripts_differ']}")
    if QUICK:
        lines.append("(--quick: a smoke run of the bench, not figures to quote)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
