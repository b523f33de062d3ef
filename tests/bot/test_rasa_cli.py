"""Rasa runs through bot/nlu/rasa_cli.py: the same command line, without JAX."""

from __future__ import annotations

import subprocess

from bot.model import RASA_BIN, RASA_CLI, rasa_env
from bot.settings import PROJECT_ROOT

PROBE = """
import sys
from bot.nlu.rasa_cli import LeaveOut
sys.meta_path.insert(0, LeaveOut())
import tensorflow
import importlib
tflite_util = importlib.import_module('tensorflow.lite.python.util')
try:
    import jax
except ModuleNotFoundError as error:
    refused = error.name
print(tflite_util._xla_computation, refused, sorted(m for m in sys.modules if m.startswith('jax')))
"""


def test_tensorflow_loads_without_jax() -> None:
    result = subprocess.run([str(RASA_BIN.parent / "python"), "-c", PROBE], cwd=PROJECT_ROOT,
                            env=rasa_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[-2] == "None jax []"


def test_the_cli_is_rasas_own() -> None:
    result = subprocess.run([*RASA_CLI, "--version"], cwd=PROJECT_ROOT, env=rasa_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Rasa Version      :         3.6.21" in result.stdout


FREEZE_PROBE = """
import asyncio, gc
from bot.nlu import rasa_cli
rasa_cli.add_server_listeners()
import rasa.core.run
app = rasa.core.run.configure_app()
before = gc.get_freeze_count()

async def started():
    # What Sanic does once the server has started ("after_server_start").
    app.signal_router.finalize()
    await app.dispatch("server.init.after", inline=True,
                       context={"app": app, "loop": asyncio.get_running_loop()})

asyncio.run(started())
print(before, gc.get_freeze_count() > 100_000)
"""


def test_rasas_server_freezes_what_start_up_made() -> None:
    """`rasa run` through the CLI: once the server has started (after the model is
    loaded), start-up's objects leave the garbage collector's generations."""
    result = subprocess.run([str(RASA_BIN.parent / "python"), "-c", FREEZE_PROBE],
                            cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[-2] == "0 True"
