"""The trained Rasa model: train only when the training inputs changed.

The model file is named after a fingerprint of everything that shapes it, so
`make train` is a no-op when data/, config.yml and domain/ are unchanged, and
several processes (tests, `make run`) can share one model safely.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
# Ours runs Rasa's command line through bot/nlu/rasa_cli.py (the same CLI, without JAX).
RASA_CLI = [str(RASA_BIN.parent / "python"), "-m", "bot.nlu.rasa_cli"]
MODELS_DIR = PROJECT_ROOT / "models"


class TrainingFailed(RuntimeError):
    pass


def _training_inputs(root: Path) -> list[Path]:
    files = [root / "config.yml", root / "requirements" / "rasa.lock"]
    files += sorted((root / "domain").glob("*.yml"))
    files += sorted((root / "data").rglob("*.yml"))
    # NLU components shape the model; the channel, tracker store and log filter in
    # bot/nlu only run beside it, so editing them needs no retraining.
    runtime_only = {"tracker_store.py", "channel.py", "log_privacy.py", "command_filter.py",
                    "lock_store.py", "action_guard.py", "followups.py", "speedups.py",
                    "rasa_cli.py"}
    files += sorted(p for p in (root / "bot" / "nlu").rglob("*.py") if p.name not in runtime_only)
    files += sorted((root / "bot" / "safety").rglob("*.py"))
    files += [root / "bot" / f for f in ("invites.py", "pseudonym.py", "chat_commands.py")]
    return [f for f in files if f.is_file()]


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for path in _training_inputs(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    return MODELS_DIR / f"mijnstem-{fingerprint(root)}.tar.gz"


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return env


def ensure_model(verbose: bool = False) -> Path:
    """Return the up-to-date model, training it first when needed."""
    MODELS_DIR.mkdir(exist_ok=True)
    target = model_path()
    with open(MODELS_DIR / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            if verbose:
                print(f"model is up to date: {target.relative_to(PROJECT_ROOT)}")
            return target
        if verbose:
            print("training a Rasa model (data, config or domain changed)...", flush=True)
        result = subprocess.run(
            [
                *RASA_CLI, "train",
                "--config", "config.yml", "--domain", "domain", "--data", "data",
                "--out", str(MODELS_DIR), "--fixed-model-name", target.name.removesuffix(".tar.gz"),
            ],
            cwd=PROJECT_ROOT, env=rasa_env(),
            stdout=None if verbose else subprocess.PIPE,
            stderr=None if verbose else subprocess.STDOUT,
            text=True,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout or "").splitlines()[-40:])
            raise TrainingFailed(f"rasa train failed (exit {result.returncode})\n{tail}")
        for old in MODELS_DIR.glob("mijnstem-*.tar.gz"):
            if old != target and len(list(MODELS_DIR.glob("mijnstem-*.tar.gz"))) > 3:
                old.unlink(missing_ok=True)
        if verbose:
            print(f"trained {target.relative_to(PROJECT_ROOT)}")
    return target


if __name__ == "__main__":
    ensure_model(verbose=True)
    sys.exit(0)
