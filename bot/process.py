"""What every long-running process of ours does once it has started.

Standard library only: Rasa's side (`bot/nlu/rasa_cli.py`, in `.venv-rasa`) uses it too.
"""

from __future__ import annotations

import gc


def freeze_start_up() -> None:
    """Move every object start-up made (modules, the model, spaCy's lexicons, mappers)
    out of the garbage collector's generations. A full collection walks every tracked
    object; in Rasa, 3 million of them after start-up, which made two pauses of about
    half a second per 420 messages under load, with every conversation waiting
    (ARCHITECTURE.md, Performance). What handling messages creates is collected as
    before. Call it once, when start-up is done and before serving."""
    gc.collect()
    gc.freeze()
