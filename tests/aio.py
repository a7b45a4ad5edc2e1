"""Running a coroutine from a test, in a thread of its own: a browser test of the same worker may
have left Playwright's event loop running in the main thread, where asyncio.run would refuse."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
