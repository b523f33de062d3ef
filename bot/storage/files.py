"""Files that hold children's data or secrets are private from the first byte.

`var/` is 0700, databases and `dev-secrets.json` 0600. Files are created with their
mode by `os.open` (no window in which another user could open them) and written
through a temporary file, so a reader never sees half a file. Stdlib only: Rasa's
side (the tracker store) uses it too.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) with mode 0700; tighten it if it exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        path.chmod(DIR_MODE)


def ensure_private_file(path: Path) -> None:
    """Create an empty file with mode 0600 unless it exists; tighten it if it does.
    For SQLite databases: SQLite gives its -wal and -shm files the same mode."""
    ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if path.stat().st_mode & 0o777 != FILE_MODE:
            path.chmod(FILE_MODE)
        return
    os.close(fd)


def write_private_file(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 from the start, atomically."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///...` URL (None for memory or another database)."""
    for prefix in ("sqlite+pysqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix):].split("?", 1)[0]
            if rest and rest != ":memory:":
                return Path(rest)
    return None
