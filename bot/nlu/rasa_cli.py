"""Rasa's own command line (`rasa train`, `rasa run`, ...), started without JAX, and
for `rasa run` with the objects of start-up kept out of the garbage collector's way.

TensorFlow 2.12 lists JAX as a dependency, and its TFLite helpers import it when it is
installed (`tensorflow/lite/python/util.py`: `try: from jax import xla_computation`).
Nothing in Mijn Stem converts models to TFLite, and TensorFlow runs without JAX when
that import fails. Refusing it keeps about 65 MB and a second of start-up out of every
Rasa process (ARCHITECTURE.md, Performance).

A Rasa server holds some 3 million objects once the model is loaded (TensorFlow's
modules among them), and Python's full garbage collection walks all of them: under
load that was two pauses of about half a second each per 420 messages, with every
conversation waiting. Once the server has started, those objects are moved out of
the collector's generations (`gc.freeze()`); what the messages create is collected as
before.

    .venv-rasa/bin/python -m bot.nlu.rasa_cli run --model ...

Runs inside `.venv-rasa`: standard library only before Rasa itself is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

LEFT_OUT = frozenset({"jax", "jaxlib"})


class LeaveOut(MetaPathFinder):
    """Makes `import jax` (and its submodules) fail as if JAX were not installed."""

    def __init__(self, packages: frozenset[str] = LEFT_OUT) -> None:
        self.packages = packages

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname.partition(".")[0] in self.packages:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def add_server_listeners() -> None:
    """Have Rasa's server freeze what start-up made, once it has loaded the model, and
    close the kept connections to the action server when it stops."""
    import rasa.core.run

    from bot.process import freeze_start_up

    configure_app = rasa.core.run.configure_app

    def configure(*args: Any, **kwargs: Any) -> Any:
        app = configure_app(*args, **kwargs)

        async def freeze(*_: Any) -> None:
            freeze_start_up()

        # After "before_server_start", where Rasa loads the model.
        app.register_listener(freeze, "after_server_start")

        async def close_sessions(*_: Any) -> None:
            from bot.nlu.speedups import close_endpoint_sessions

            await close_endpoint_sessions()

        app.register_listener(close_sessions, "after_server_stop")
        return app

    rasa.core.run.configure_app = configure


def main() -> None:
    sys.meta_path.insert(0, LeaveOut())
    if sys.argv[1:2] == ["run"]:
        add_server_listeners()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
