"""`make bench`: Mijn Stem side by side with a stock `rasa init` bot, in one run.

Both bots are built and measured here, on this machine, on loopback:

- training time from scratch (`rasa train` into an empty folder), time from start to the
  first answer, and the peak memory (VmHWM) of every process;
- one chat alone and 20 chats in a closed loop, on whole conversations (a teenager's
  interview for ours, the mood-bot stories for stock), never one message repeated:
  messages per second and p50/p95/p99;
- capacity: chats that each send a message every 10 s, stepped up until p95 passes
  300 ms (bounded: at most MAX_CHATS chats, LEVEL_SECONDS per step);
- ours also over the full Telegram path: the fake Bot API (tests/fakes/telegram_api.py)
  on loopback, the real bridge process, Rasa, the action server and the database.

Correctness under load is checked on the way: every message answered, in order within
its chat, no answer in another chat (REST: `recipient_id`; Telegram: each chat's
transcript is exactly the one a lone chat gets), and every wish and answer in the
database. The stock bot is the set of files `rasa init` writes (rasa/cli/initial_project
of the installed Rasa), copied once into ~/.cache/mijnstem/ and trained fresh each run.

Prints one table with the ratios to stock and writes var/bench.json. Noisy on a shared
machine: compare ratios from one run, not figures from different runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
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

from bot import invites
from bot.age import age_group
from bot.model import RASA_BIN, rasa_env
from bot.settings import PROJECT_ROOT, Settings
from bot.storage import repo
from bot.storage.db import make_engine, make_session_factory
from bot.storage.models import Answer, Invite, Wish
from tests.e2e.stack import Stack, free_port, start_stack
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI

QUICK = "--quick" in sys.argv  # a smoke run of the bench itself: tiny, untrained, no table
CHATS = 3 if QUICK else 20
PERIOD = 10.0  # capacity: each chat sends a message every PERIOD seconds
P95_LIMIT = 0.300
LEVELS = (5, 10) if QUICK else (50, 100, 200, 300, 450, 600, 800)
MAX_CHATS = LEVELS[-1]
LEVEL_SECONDS = 4.0 if QUICK else 15.0
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
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


def train(cwd: Path, out: Path, *extra: str) -> float:
    started = time.monotonic()
    subprocess.run(
        [str(RASA_BIN), "train", *extra, "--out", str(out), "--fixed-model-name", "bench"],
        cwd=cwd, env=rasa_env(), check=True, capture_output=True,
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


def make_invites(settings: Settings, count: int) -> list[str]:
    """Invite codes for 15-year-olds, straight into the database (the CLI is one process
    per code)."""
    engine = make_engine(settings)
    codes = []
    try:
        with make_session_factory(engine).begin() as session:
            for _ in range(count):
                child = repo.create_child(session=session, display_name=None, age=15,
                                          age_group=age_group(15), caseworker=None)
                code = invites.new_code()
                repo.create_invite(session=session, child=child,
                                   code_hash=invites.code_hash(settings.pseudonym_secret, code),
                                   ttl=timedelta(days=1))
                codes.append(code)
    finally:
        engine.dispose()
    return codes


def start_ours(var_dir: Path) -> tuple[Bot, Stack, float]:
    started = time.monotonic()
    stack = start_stack(var_dir)
    code = make_invites(stack.settings, 1)[0]
    wait_ready(stack.webhook, "bench-ready", f"/start {code}", started + 600, stack.processes)
    ready = round(time.monotonic() - started, 1)
    codes = iter(make_invites(stack.settings, MAX_CHATS + 3 * CHATS + 4))
    starts: dict[int, str] = {}

    def conversation(index: int) -> list[str]:
        if index not in starts:
            starts[index] = next(codes)
        return [f"/start {starts[index]}", *OURS]

    names = ["actions", "rasa"]
    bot = Bot("ours", stack.webhook, dict(zip(names, stack.processes, strict=False)),
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
        """The chat's next message; its latency, or None when it was not answered."""
        messages = self.bot.conversation(index)
        position = self.position.get(index, 0)
        text = messages[position % len(messages)]
        self.position[index] = position + 1
        sender = self.sender(index)
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
        self.transcripts.setdefault(index, []).append(
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

    async def paced(self, chats: int, seconds: float, first: int = 0) -> dict[str, float]:
        """Each chat sends its next message every PERIOD seconds (never two at once)."""
        latencies: list[float] = []
        unanswered = 0
        rng = random.Random(chats)

        async def chat(http: httpx.AsyncClient, index: int, stop_at: float) -> None:
            nonlocal unanswered
            await asyncio.sleep(rng.uniform(0, PERIOD))
            while time.monotonic() < stop_at:
                due = time.monotonic() + PERIOD
                latency = await self.say(http, index)
                if latency is None:
                    unanswered += 1
                else:
                    latencies.append(latency)
                await asyncio.sleep(max(0.0, due - time.monotonic()))

        async with _client(chats) as http:
            started = time.monotonic()
            stop_at = started + seconds
            await asyncio.gather(*(chat(http, first + i, stop_at) for i in range(chats)))
            elapsed = time.monotonic() - started
        result = summary(latencies, elapsed)
        result["unanswered"] = unanswered
        return result

    async def capacity(self) -> dict[str, Any]:
        """Step the number of pacing chats up until p95 passes the limit."""
        steps = []
        capacity = 0
        first = 10_000  # chats of their own, beginning their conversations
        for level in LEVELS:
            result = await self.paced(level, LEVEL_SECONDS, first=first)
            passed = result["p95_ms"] <= P95_LIMIT * 1000 and not result["unanswered"]
            steps.append({"chats": level, **result, "passed": passed})
            print(f"  {self.bot.name}: {level} chats every {PERIOD:.0f} s: "
                  f"p95 {result['p95_ms']} ms {'ok' if passed else 'over'}", flush=True)
            if not passed:
                break
            capacity = level
        return {"chats": capacity, "steps": steps}


def _client(chats: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=chats + 10, max_keepalive_connections=chats + 10)
    return httpx.AsyncClient(timeout=120, limits=limits, trust_env=False)


def check_ours_stored(stack: Stack, load: RestLoad, chats: list[int]) -> list[str]:
    """Every wish and open answer of a finished interview is in the database."""
    problems = []
    engine = make_engine(stack.settings)
    try:
        with make_session_factory(engine).begin() as session:
            for index in chats:
                code = load.bot.conversation(index)[0].split()[1]
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


def telegram_run(stack: Stack, log_dir: Path) -> dict[str, Any]:  # noqa: C901
    """The same interview through the fake Bot API, the bridge, Rasa and the actions.
    A turn is complete when the chat has all the messages a lone chat got for it."""
    api = FakeTelegramAPI().start()
    env = {**stack.env, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url,
           "TELEGRAM_RETRY_SECONDS": "1"}
    log = open(log_dir / "bridge.log", "wb")  # noqa: SIM115
    bridge = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "bot", "telegram"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    codes = make_invites(stack.settings, CHATS + 1)
    result: dict[str, Any] = {}
    try:
        api.wait_for(lambda: api.polls > 0, timeout=120)

        def run_chat(chat: int, code: str, expected: list[int] | None,
                     latencies: list[float]) -> list[int]:
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
                    want = before + expected[len(counts)]
                    api.wait_for(lambda: len(api.messages_to(chat)) >= want, 120)  # noqa: B023
                    latencies.append(time.monotonic() - started)
                    counts.append(expected[len(counts)])
            return counts

        lone: list[float] = []
        expected = run_chat(900_000, codes[0], None, lone)
        reference = api.texts_to(900_000)
        result["one_chat"] = summary(lone, sum(lone))
        latencies: list[float] = []
        threads = [threading.Thread(target=run_chat,
                                    args=(900_001 + i, codes[1 + i], expected, latencies))
                   for i in range(CHATS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result["closed_loop"] = summary(latencies, time.monotonic() - started)
        wrong = [c for c in range(900_001, 900_001 + CHATS) if api.texts_to(c) != reference]
        result["transcripts_differ"] = len(wrong)
        result["bridge_peak_mb"] = peak_mb(bridge.pid)
    finally:
        os.killpg(bridge.pid, signal.SIGTERM)
        bridge.wait(timeout=30)
        log.close()
        api.stop()
    return result


# --- the run -----------------------------------------------------------------------------


def measure_rest(bot: Bot, prefix: str, rounds: int) -> tuple[dict[str, Any], RestLoad]:
    """`rounds` conversations per chat: about the same number of messages for both bots
    (the stock conversation is 7 messages, ours 21)."""
    load = RestLoad(bot, prefix)
    one = asyncio.run(load.closed_loop([list(range(rounds * 2))]))
    twenty = asyncio.run(load.closed_loop(
        [[100 + i + CHATS * r for r in range(rounds)] for i in range(CHATS)]))
    capacity = asyncio.run(load.capacity())
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
            ours["train_s"] = train(PROJECT_ROOT, tmp / "ours", "--domain", "domain")
            stock["train_s"] = train(project, tmp / "stock")
            stock_model.parent.mkdir(exist_ok=True)
            shutil.copy(tmp / "stock" / "bench.tar.gz", stock_model)

        print("stock rasa init bot ...", flush=True)
        bot, stock["ready_s"] = start_stock(project, stock_model, tmp)
        try:
            measured, load = measure_rest(bot, "stock", rounds=3)
            stock.update(measured)
            stock["errors"] = load.errors[:20]
            stock["peak_mb"] = {"rasa": peak_mb(bot.processes["rasa"].pid)}
        finally:
            bot.stop()

        print("Mijn Stem ...", flush=True)
        bot, stack, ours["ready_s"] = start_ours(tmp / "var")
        try:
            measured, load = measure_rest(bot, "ours", rounds=1)
            ours.update(measured)
            finished = [0, 1, *range(100, 100 + CHATS)]
            ours["errors"] = (load.errors + check_ours_stored(stack, load, finished))[:20]
            print("Mijn Stem over the Telegram path ...", flush=True)
            ours["telegram"] = telegram_run(stack, tmp)
            ours["peak_mb"] = {name: peak_mb(p.pid) for name, p in bot.processes.items()}
            ours["peak_mb"]["bridge"] = ours["telegram"].pop("bridge_peak_mb")
        finally:
            bot.stop()
    results["elapsed_s"] = round(time.monotonic() - run_started, 1)
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\n(written to {RESULT.relative_to(PROJECT_ROOT)}; {results['elapsed_s']} s)")
    return 0 if not ours["errors"] and not ours["telegram"]["transcripts_differ"] else 1


def table(r: dict[str, Any]) -> str:
    s, o, t = r["stock"], r["ours"], r["ours"]["telegram"]

    def ratio(a: float, b: float, higher_better: bool = True) -> str:
        if not a or not b:
            return "-"
        return f"{(b / a if higher_better else a / b):.2f}x"

    rows = [
        ("1 chat msg/s", s["one_chat"]["msg_per_s"], o["one_chat"]["msg_per_s"],
         t["one_chat"]["msg_per_s"], True),
        ("1 chat p95 ms", s["one_chat"]["p95_ms"], o["one_chat"]["p95_ms"],
         t["one_chat"]["p95_ms"], False),
        (f"{CHATS} chats msg/s", s["closed_loop"]["msg_per_s"], o["closed_loop"]["msg_per_s"],
         t["closed_loop"]["msg_per_s"], True),
        (f"{CHATS} chats p50 ms", s["closed_loop"]["p50_ms"], o["closed_loop"]["p50_ms"],
         t["closed_loop"]["p50_ms"], False),
        (f"{CHATS} chats p95 ms", s["closed_loop"]["p95_ms"], o["closed_loop"]["p95_ms"],
         t["closed_loop"]["p95_ms"], False),
        (f"{CHATS} chats p99 ms", s["closed_loop"]["p99_ms"], o["closed_loop"]["p99_ms"],
         t["closed_loop"]["p99_ms"], False),
        (f"capacity (chats, 1 msg/{PERIOD:.0f} s, p95<=300 ms)", s["capacity"]["chats"],
         o["capacity"]["chats"], None, True),
        ("train s", s["train_s"], o["train_s"], None, False),
        ("ready s", s["ready_s"], o["ready_s"], None, False),
        ("peak MB (Rasa + actions)", sum(s["peak_mb"].values()),
         round(o["peak_mb"]["rasa"] + o["peak_mb"]["actions"], 1), None, False),
    ]
    lines = [f"{'':44} {'stock':>9} {'ours REST':>10} {'ratio':>7} {'ours TG':>9} {'ratio':>7}"]
    for name, a, b, c, higher in rows:
        tg = "" if c is None else f"{c:>9} {ratio(a, c, higher):>7}"
        lines.append(f"{name:44} {a:>9} {b:>10} {ratio(a, b, higher):>7} {tg}")
    lines.append(f"peak MB per process: stock {s['peak_mb']}, ours {o['peak_mb']}")
    lines.append(f"errors: stock {len(s['errors'])}, ours {len(o['errors'])}, "
                 f"Telegram transcripts that differ {t['transcripts_differ']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
