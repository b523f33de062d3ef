"""Optional modules that are not installed, remembered as absent once per process.

httpcore (under httpx, so under the Rasa gateway and python-telegram-bot) runs
`import sniffio` inside `current_async_library()`, i.e. for every lock, event and
cancellation shield it makes: several times per HTTP request. sniffio is optional there
and no longer installed with anyio 4.11+, and Python does not remember a failed import,
so every request searched sys.path for it again: about 12 % of the Telegram bridge's
CPU under load (py-spy, scripts/cpu_per_message_telegram.py; upstream: encode/httpcore
discussion 1102). A module marked absent makes `import` fail at once with the same
ModuleNotFoundError, which httpcore and anyio catch as they did before.
"""

from __future__ import annotations

import importlib.util
import sys

# Imported on hot paths by our dependencies when present, optional when not.
HOT_OPTIONAL = ("sniffio",)


def remember_absent(names: tuple[str, ...] = HOT_OPTIONAL) -> list[str]:
    """Mark the modules among `names` that are not installed as absent (None in
    sys.modules); an installed or already imported module is left alone. Called by the
    code that starts a process (bot.cli.main), never at import. Returns those marked."""
    marked = []
    for name in names:
        if name in sys.modules:
            continue
        if importlib.util.find_spec(name) is None:
            sys.modules[name] = None  # type: ignore[assignment]
            marked.append(name)
    return marked
