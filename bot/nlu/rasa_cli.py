"""Rasa's own command line (`rasa train`, `rasa run`, ...), started without JAX.

TensorFlow 2.12 lists JAX as a dependency, and its TFLite helpers import it when it is
installed (`tensorflow/lite/python/util.py`: `try: from jax import xla_computation`).
Nothing in Mijn Stem converts models to TFLite, and TensorFlow runs without JAX when
that import fails. Refusing it keeps about 65 MB and a second of start-up out of every
Rasa process (ARCHITECTURE.md, Performance).

    .venv-rasa/bin/python -m bot.nlu.rasa_cli run --model ...

Runs inside `.venv-rasa`: standard library only before Rasa itself is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

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


def main() -> None:
    sys.meta_path.insert(0, LeaveOut())
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
