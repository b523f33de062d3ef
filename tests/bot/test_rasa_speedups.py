"""bot/nlu/speedups.py inside Rasa's own environment: the action server's answers are
validated exactly as Rasa does, with the schema validator built once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.model import rasa_env
from bot.settings import PROJECT_ROOT

PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def test_action_results_are_judged_as_rasa_judges_them():
    run = subprocess.run(
        [str(PYTHON), str(Path(__file__).with_name("rasa_speedups_probe.py"))],
        cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True, timeout=300,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("PROBE ")), None)
    assert line, run.stdout[-2000:] + run.stderr[-4000:]
    out = json.loads(line.removeprefix("PROBE "))
    assert out["patched"]
    assert out["after"] == out["before"]
    assert out["after"][0] == "ok" and all(v.startswith("refused") for v in out["after"][1:])
