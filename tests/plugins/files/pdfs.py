"""PDFs made in the tests, with fpdf2: plain, multi-page, encrypted, damaged."""

import asyncio
import base64
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fpdf import FPDF

T = TypeVar("T")


def make_pdf(*pages: str, password: str | None = None) -> bytes:
    doc = FPDF()
    for text in pages:
        doc.add_page()
        doc.set_font("helvetica", size=12)
        doc.multi_cell(0, 8, text)
    if password is not None:
        doc.set_encryption(owner_password="owner-secret", user_password=password)
    return bytes(doc.output())


def data_url(data: bytes, media_type: str = "application/pdf") -> str:
    return f"data:{media_type};base64," + base64.b64encode(data).decode()


def file_part(data: bytes | str, filename: str = "report.pdf") -> dict:
    url = data if isinstance(data, str) else data_url(data)
    return {"type": "file", "file": {"filename": filename, "file_data": url}}


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end in a thread of its own: a browser test of the same worker
    may have left Playwright's event loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
