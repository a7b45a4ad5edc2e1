"""Web search engines behind the `web` plugin: one small adapter per API, chosen by environment.

- `local` (default): the local stand-in corpus (simulator/search.py), spoken to through the
  SearxNG API at `WEB_SEARCH_URL` (default `$SIMULATOR_URL/search`);
- `searxng`: a SearxNG instance's JSON API (`format=json` enabled), `WEB_SEARCH_URL` = the
  instance's search URL (e.g. `https://searx.example.org/search`);
- `exa`: Exa's `/search` with page text, key in `WEB_SEARCH_API_KEY` or `EXA_API_KEY`;
- `brave`: Brave Search's web search, key in `WEB_SEARCH_API_KEY` or `BRAVE_API_KEY`.

Every adapter returns at most `max_results` results, each cut to `MAX_CONTENT` characters so
the prompt the results make stays within the bound the hold was priced with. A failure
(connection refused, timeout, an error status, an answer that is not the API's JSON) is a
`SearchUnavailable` naming the engine and what went wrong.
"""

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

# What one result may add to the prompt: title and URL are cut too (in characters).
MAX_CONTENT = 1000
MAX_TITLE = 200
MAX_URL = 500
ENGINES = ("local", "searxng", "exa", "brave")
DEFAULT_PRICE_PER_RESULT = Decimal("0.004")  # $4 per 1,000 results (OpenRouter's default)
EXA_URL = "https://api.exa.ai"
BRAVE_URL = "https://api.search.brave.com/res/v1"


class SearchUnavailable(Exception):
    """The engine could not answer; the message says which engine and why."""


@dataclass(frozen=True)
class Result:
    url: str
    title: str
    content: str

    @classmethod
    def of(cls, url: Any, title: Any, content: Any) -> "Result | None":
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return None
        return cls(url[:MAX_URL], (title if isinstance(title, str) else url)[:MAX_TITLE],
                   (content if isinstance(content, str) else "")[:MAX_CONTENT])


@dataclass(frozen=True)
class SearchSettings:
    engine: str = "local"
    url: str = "http://127.0.0.1:8003/search"
    api_key: str | None = None
    price_per_result: Decimal = DEFAULT_PRICE_PER_RESULT
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> "SearchSettings":
        engine = (os.environ.get("WEB_SEARCH_ENGINE") or "local").lower()
        if engine not in ENGINES:
            raise ValueError(f"WEB_SEARCH_ENGINE must be one of {', '.join(ENGINES)}")
        simulator = os.environ.get("SIMULATOR_URL") or "http://127.0.0.1:8003"
        named_key = {"exa": "EXA_API_KEY", "brave": "BRAVE_API_KEY"}.get(engine, "")
        default_url = {"exa": EXA_URL, "brave": BRAVE_URL}.get(engine, simulator + "/search")
        return cls(
            engine=engine,
            url=(os.environ.get("WEB_SEARCH_URL") or default_url).rstrip("/"),
            api_key=os.environ.get("WEB_SEARCH_API_KEY") or os.environ.get(named_key) or None,
            price_per_result=Decimal(os.environ.get("WEB_SEARCH_PRICE_PER_RESULT")
                                     or DEFAULT_PRICE_PER_RESULT),
            timeout=float(os.environ.get("WEB_SEARCH_TIMEOUT") or 10.0),
        )

    @property
    def label(self) -> str:
        """The engine's name in `/api/v1/generation` (`web_search_engine`)."""
        return "local-corpus" if self.engine == "local" else self.engine


def _domain_ok(url: str, include: list[str], exclude: list[str]) -> bool:
    """`include_domains`/`exclude_domains` for engines without such a filter of their own."""
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path

    def hit(pattern: str) -> bool:
        # `example.com` and `*.example.com` both take subdomains; `example.com/docs` a path.
        domain, _, prefix = pattern.lower().partition("/")
        domain = domain.removeprefix("*.")
        on_host = host == domain or host.endswith("." + domain)
        return on_host and path.lstrip("/").startswith(prefix)

    return (not include or any(hit(p) for p in include)) and not any(hit(p) for p in exclude)


async def _fetch(session: aiohttp.ClientSession, method: str, url: str, settings: SearchSettings,
                 **kwargs: Any) -> Any:
    try:
        async with session.request(method, url, timeout=aiohttp.ClientTimeout(
                total=settings.timeout), **kwargs) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise SearchUnavailable(f"{settings.engine} answered HTTP {resp.status}")
    except TimeoutError:
        raise SearchUnavailable(
            f"{settings.engine} did not answer within {settings.timeout:g}s") from None
    except aiohttp.ClientError as exc:
        raise SearchUnavailable(f"{settings.engine} is unreachable "
                                f"({exc.__class__.__name__})") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise SearchUnavailable(f"{settings.engine} answered something that is not JSON"
                                ) from None


def _listed(data: Any, key: str) -> list[Any]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SearchUnavailable(f"answer without a '{key}' list")
    return [item for item in items if isinstance(item, dict)]


async def search(session: aiohttp.ClientSession, settings: SearchSettings, query: str,
                 max_results: int, include: list[str], exclude: list[str]) -> list[Result]:
    """The engine's results for `query`, best first, at most `max_results`."""
    found: list[Result | None]
    # Engines without domain filters of their own are asked for more, filtered here.
    wanted = min(25, max_results * 4) if include or exclude else max_results
    if settings.engine in ("local", "searxng"):
        params = {"q": query, "format": "json", "max_results": str(wanted)}
        data = await _fetch(session, "GET", settings.url, settings, params=params)
        found = [Result.of(r.get("url"), r.get("title"), r.get("content"))
                 for r in _listed(data, "results")]
    elif settings.engine == "exa":
        body: dict[str, Any] = {"query": query, "numResults": max_results,
                                "contents": {"text": {"maxCharacters": MAX_CONTENT}}}
        if include:
            body["includeDomains"] = include
        if exclude:
            body["excludeDomains"] = exclude
        data = await _fetch(session, "POST", settings.url + "/search", settings,
                            data=orjson.dumps(body),
                            headers={"x-api-key": settings.api_key or "",
                                     "content-type": "application/json"})
        found = [Result.of(r.get("url"), r.get("title"), r.get("text") or r.get("summary"))
                 for r in _listed(data, "results")]
    else:  # brave
        data = await _fetch(session, "GET", settings.url + "/web/search", settings,
                            params={"q": query, "count": str(min(wanted, 20))},
                            headers={"X-Subscription-Token": settings.api_key or "",
                                     "Accept": "application/json"})
        web = data.get("web") if isinstance(data, dict) else None
        found = [Result.of(r.get("url"), r.get("title"), r.get("description"))
                 for r in _listed(web or {"results": []}, "results")]
    results = [r for r in found if r is not None and _domain_ok(r.url, include, exclude)]
    return results[:max_results]
