"""bot.optional_imports: an optional module that is not installed fails to import at
once, as before (ModuleNotFoundError), and httpcore still finds asyncio."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator

import pytest

from bot.optional_imports import remember_absent

MISSING = "mijnstem_no_such_module"


@pytest.fixture
def clean_modules() -> Iterator[None]:
    saved = dict(sys.modules)
    yield
    for name in set(sys.modules) - set(saved):
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.mark.usefixtures("clean_modules")
def test_a_missing_module_is_marked_and_its_import_fails_as_before() -> None:
    assert remember_absent((MISSING,)) == [MISSING]
    assert sys.modules[MISSING] is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(MISSING)
    # A second call marks nothing new.
    assert remember_absent((MISSING,)) == []


@pytest.mark.usefixtures("clean_modules")
def test_an_installed_module_is_left_alone() -> None:
    sys.modules.pop("colorsys", None)
    assert remember_absent(("colorsys", "json")) == []
    assert importlib.import_module("colorsys").hls_to_rgb(0, 0.5, 0) == (0.5, 0.5, 0.5)


@pytest.mark.usefixtures("clean_modules")
def test_httpcore_still_runs_on_asyncio_with_sniffio_marked_absent() -> None:
    from httpcore._synchronization import AsyncLock, current_async_library

    remember_absent()
    if sys.modules.get("sniffio") is not None:
        pytest.skip("sniffio is installed: nothing to mark")

    async def detect() -> str:
        lock = AsyncLock()  # asks current_async_library, as every request does
        async with lock:
            return current_async_library()

    assert asyncio.run(detect()) == "asyncio"
