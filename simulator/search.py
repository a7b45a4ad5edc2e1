"""The local search service: a stand-in for a web search engine, over a small bundled corpus.

Not the web: `data/search_corpus.json` holds a few fixed pages (Redis, PostgreSQL, Python's
asyncio, Paris, HTTP streaming), so web search works offline under `make run` and in tests.
Every answer says so in its `notice`. Served by the simulator process under `/search`:

- ``GET /search?q=...&format=json[&max_results=N]``: SearxNG's JSON API (what the gateway's
  SearxNG adapter reads; `engine: local` is that adapter pointed here).
- ``POST /search/exa/search``: Exa's search API (`query`, `numResults`, `includeDomains`,
  `excludeDomains`; any `x-api-key`), so the Exa adapter can be exercised offline.

Ranking is a plain term-frequency score weighted by each term's rarity in the corpus, title
words counting double: enough to return the Redis pages for a question about Redis.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

CORPUS_FILE = Path(__file__).resolve().parent / "data" / "search_corpus.json"
ENGINE = "local-corpus"
WORD_RE = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "in", "is", "it", "its", "me", "of", "on", "or", "that", "the", "this", "to", "was",
    "what", "when", "where", "which", "who", "why", "will", "with", "you", "your", "about",
    "tell",
})
MAX_RESULTS = 25

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _terms(text: str) -> list[str]:
    return [w for w in WORD_RE.findall(text.lower()) if w not in STOPWORDS]


@cache
def corpus() -> tuple[str, list[dict[str, Any]]]:
    data = orjson.loads(CORPUS_FILE.read_bytes())
    pages = data["pages"]
    for page in pages:
        page["_terms"] = Counter(_terms(page["title"]) * 2 + _terms(page["content"]))
    return data["notice"], pages


def _domain_ok(url: str, include: list[str], exclude: list[str]) -> bool:
    host = urlsplit(url).hostname or ""

    def hit(domain: str) -> bool:
        domain = domain.lower().removeprefix("*.").split("/")[0]
        return host == domain or host.endswith("." + domain)

    return (not include or any(hit(d) for d in include)) and not any(hit(d) for d in exclude)


def search(query: str, limit: int, include: list[str] | None = None,
           exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """The best `limit` pages for `query`, best first (only pages sharing a term with it)."""
    _, pages = corpus()
    terms = _terms(query)
    scored = []
    for index, page in enumerate(pages):
        if not _domain_ok(page["url"], include or [], exclude or []):
            continue
        score = 0.0
        for term in terms:
            count = page["_terms"].get(term, 0)
            if count:
                holders = sum(1 for p in pages if term in p["_terms"])
                score += count * math.log(1 + len(pages) / holders)
        if score > 0:
            scored.append((-score, index, page))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [{"url": p["url"], "title": p["title"], "content": p["content"], "score": -s}
            for s, _, p in scored[:max(0, min(limit, MAX_RESULTS))]]


def cite(prompt: str) -> str | None:
    """What a simulated model says first when its prompt carries web search results: a
    markdown link to the first result, named by its domain, as the search prompt asks."""
    if "web search" not in prompt.lower():
        return None
    found = re.search(r"^URL: (https?://\S+)", prompt, re.M)
    if found is None:
        return None
    url = found.group(1)
    host = (urlsplit(url).hostname or url).removeprefix("www.")
    return f"According to [{host}]({url}), "


async def _send_json(send: Send, status: int, payload: Any) -> None:
    body = orjson.dumps(payload)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _names(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    path, method = scope["path"], scope["method"]
    notice, _ = corpus()
    if path in ("/search", "/search/") and method == "GET":
        query = parse_qs(scope.get("query_string", b"").decode())
        q = (query.get("q") or [""])[0]
        if not q.strip():
            await _send_json(send, 400, {"error": "missing q"})
            return
        limit = _int((query.get("max_results") or ["10"])[0], 10)
        results = [{**r, "engine": ENGINE} for r in search(q, limit)]
        await _send_json(send, 200, {"query": q, "number_of_results": len(results),
                                     "results": results, "notice": notice})
        return
    if path == "/search/exa/search" and method == "POST":
        headers = dict(scope.get("headers") or [])
        if not headers.get(b"x-api-key"):
            await _send_json(send, 401, {"error": "x-api-key header required"})
            return
        try:
            body = orjson.loads(await _read(receive))
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            await _send_json(send, 400, {"error": "query is required"})
            return
        found = search(body["query"], _int(body.get("numResults"), 10),
                       _names(body.get("includeDomains")), _names(body.get("excludeDomains")))
        results = [{"id": r["url"], "url": r["url"], "title": r["title"], "text": r["content"],
                    "score": r["score"]} for r in found]
        await _send_json(send, 200, {"requestId": "local", "results": results,
                                     "searchType": "neural", "notice": notice})
        return
    await _send_json(send, 404, {"error": f"no route for {method} {path}"})
