"""Start the real processes (action server, Rasa, optionally the web app) on free
loopback ports, with their own database and var dir, and talk to them as a user would."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.model import ensure_model
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.stack import Service, services

APP_PYTHON = str(PROJECT_ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    env: dict[str, str]
    settings: Settings
    var_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    parts: dict[str, Service] = field(default_factory=dict)

    @property
    def webhook(self) -> str:
        return self.settings.rasa_webhook_url

    def say(self, sender: str, text: str, timeout: float = 60) -> list[dict]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(
            self.webhook, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [APP_PYTHON, "-m", "bot", *args], cwd=PROJECT_ROOT, env=self.env,
            capture_output=True, text=True, check=check, timeout=120,
        )

    def invite(self, *args: str) -> str:
        return self.cli("invite", *args).stdout.strip().splitlines()[-1]

    def launch(self, part: Service, extra_env: dict[str, str] | None = None) -> None:
        """Start one part (again), its output appended to var_dir/<name>.log."""
        log = self.var_dir / f"{part.name.replace(' ', '-')}.log"
        if log not in self.logs:
            self.logs.append(log)
        with open(log, "ab") as handle:
            process = subprocess.Popen(
                part.argv, cwd=PROJECT_ROOT,
                env={**part.process_env(self.env), **(extra_env or {})},
                stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.processes.append(process)
        part.process = process
        self.parts[part.name] = part

    def wait_ready(self, names: list[str] | None = None, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        for name in names or list(self.parts):
            part = self.parts[name]
            if part.ready_url is None:
                continue
            while True:
                if part.process is not None and part.process.poll() is not None:
                    raise RuntimeError(f"{part.name} exited early:\n{self.log_tail()}")
                try:
                    with urllib.request.urlopen(part.ready_url, timeout=2):
                        break
                except (urllib.error.URLError, OSError):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{part.name} not ready:\n{self.log_tail()}") from None
                    time.sleep(0.5)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one part the hard way (a crash), and wait until it is gone."""
        process = self.parts[name].process
        assert process is not None
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def restart(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        part = self.parts[name]
        if part.process is not None and part.process.poll() is None:
            self.kill(name, signal.SIGTERM)
        self.launch(part, extra_env)
        self.wait_ready([name])

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            if process.returncode is not None:
                continue
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log_tail(self, lines: int = 60) -> str:
        out = []
        for log in self.logs:
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)


def private_model(var_dir: Path) -> Path:
    """The up-to-date model, copied beside the stack: models/ is shared, and training
    elsewhere prunes old models, so a Rasa restarted by a test could find its model
    gone (and `rasa run` then silently loads another one from models/)."""
    model = ensure_model()
    copy = var_dir / model.name
    if not copy.exists():
        shutil.copyfile(model, copy)
    return copy


def stack_env(var_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIJNSTEM_", "TELEGRAM_"))}
    env.update(
        {
            "MIJNSTEM_ENV": "development",
            "MIJNSTEM_ENV_FILE": "",
            "MIJNSTEM_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{var_dir / 'mijnstem.db'}",
            "TRACKER_DB_URL": f"sqlite:///{var_dir / 'rasa-tracker.db'}",
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "WEB_PORT": str(free_port()),
            "RASA_TELEMETRY_ENABLED": "false",
        }
    )
    env.pop("RASA_URL", None)
    env.update(extra or {})
    return env


def start_stack(
    var_dir: Path, extra_env: dict[str, str] | None = None, with_web: bool = False
) -> Stack:
    """Migrate, then start the action server and Rasa (and the web app if asked)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    env = stack_env(var_dir, extra_env)
    settings = load_settings(env)
    model = private_model(var_dir)
    stack = Stack(env=env, settings=settings, var_dir=var_dir)
    stack.cli("migrate")
    wanted = {"action server", "rasa"} | ({"web app"} if with_web else set())
    parts = [s for s in services(settings, model) if s.name in wanted]
    try:
        for part in parts:
            stack.launch(part, extra_env)
        stack.wait_ready()
    except BaseException:
        stack.stop()
        raise
    return stack


if __name__ == "__main__":  # manual use: python -m tests.e2e.stack /tmp/somewhere
    s = start_stack(Path(sys.argv[1]))
    print(s.env["RASA_PORT"], flush=True)
    try:
        signal.pause()
    finally:
        s.stop()
