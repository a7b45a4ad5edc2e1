"""Running a coroutine from a test."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    # In a thread of its own: a browser test may have left Playwright's loop running here.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
