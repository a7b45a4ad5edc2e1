"""PDF inputs: what reading a file costs a request, and what a request without one pays.

    .venv/bin/python bench/pdf_inputs.py

Prints, for generated PDFs of 1 to 200 pages (~2.4 KB of text a page): the file's size, the
time pypdf takes to extract its text (in the worker thread, best of a few rounds) and how
late the event loop's 1 ms ticks come meanwhile, against an idle loop on the same machine
(parsing must not block other requests: the GIL is shared, so ticks wait a few switch
intervals at most), then the
per-request cost of the file check on a request without files (the fast path every request
takes).
"""

import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from fpdf import FPDF  # noqa: E402

from gateway import pdf, plugins, request  # noqa: E402
from gateway.plugins.files import read_files  # noqa: E402

LINE = "The heron waits by the quiet river at dawn, and the market opens at nine. "
PAGE = LINE * 32  # ~2.4 KB of text


def make_pdf(pages: int) -> bytes:
    doc = FPDF()
    doc.set_font("helvetica", size=10)
    for _ in range(pages):
        doc.add_page()
        doc.multi_cell(0, 5, PAGE)
    return bytes(doc.output())


async def parse_with_stalls(data: bytes | None, pages: int) -> tuple[float, float, float]:
    """(seconds to parse, 95th percentile and longest gap between 1 ms ticks of the event loop
    meanwhile); without data, the same over 0.5 s of an idle loop (the machine's baseline)."""
    stalls: list[float] = []
    done = False

    async def ticker() -> None:
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    began = time.perf_counter()
    if data is None:
        await asyncio.sleep(0.5)
    else:
        await pdf.parse(data, "bench.pdf", pages + 1, timeout=120)
    took = time.perf_counter() - began
    done = True
    await tick
    stalls.sort()
    return took, stalls[int(len(stalls) * 0.95)], stalls[-1]


def main() -> None:
    print(f"{'pages':>6} {'size KB':>8} {'text KB':>8} {'parse ms':>9} {'ms/page':>8} "
          f"{'loop gap p95 ms':>16} {'max ms':>7}")
    idle = [asyncio.run(parse_with_stalls(None, 0)) for _ in range(3)]
    print(f"{'idle':>6} {'':>8} {'':>8} {'':>9} {'':>8} "
          f"{statistics.median(r[1] for r in idle) * 1000:>16.1f} "
          f"{statistics.median(r[2] for r in idle) * 1000:>7.1f}")
    for pages in (1, 10, 50, 200):
        data = make_pdf(pages)
        text = pdf.extract(data, "bench.pdf", pages + 1).text
        runs = [asyncio.run(parse_with_stalls(data, pages)) for _ in range(3)]
        took = min(r[0] for r in runs)
        print(f"{pages:>6} {len(data) / 1024:>8.1f} {len(text.encode()) / 1024:>8.1f} "
              f"{took * 1000:>9.1f} {took * 1000 / pages:>8.2f} "
              f"{statistics.median(r[1] for r in runs) * 1000:>16.1f} "
              f"{statistics.median(r[2] for r in runs) * 1000:>7.1f}")

    raw = orjson.dumps({"model": "openai/gpt-4o-mini",
                        "messages": [{"role": "user", "content": "Hello there"}]})
    req = request.parse(raw)
    rounds = 200_000

    async def plain() -> float:
        began = time.perf_counter()
        for _ in range(rounds):
            await read_files(req, None)
            plugins.pipeline_for(req)
        return (time.perf_counter() - began) / rounds

    per = statistics.median(asyncio.run(plain()) for _ in range(3))
    print(f"\nrequest without files: file check + plugin lookup {per * 1e6:.2f} µs per request")


if __name__ == "__main__":
    main()
