"""Web search for every model (reference §21.1): the `web` plugin, the `:online` suffix and the
`openrouter:web_search` server tool.

Before the first call the gateway searches (gateway/search.py) with the text of the last user
message, appends the results to that message under the search prompt, and charges the price
per result returned (configuration, default $4 per 1,000: $0.02 for the default 5). The answer
carries `url_citation` annotations: a citation the model writes as a markdown link to a result
is annotated with its place in the answer, on the streamed delta that completes it; the
results it did not cite follow at the end (`start_index` = `end_index` = 0).

The server tool is served the same way: the search runs before the call rather than when the
model asks for it, so no tool call reaches the client and the model cannot decline it.

If the engine fails (down, too slow, an error), the request is refused with a 503 in the error
shape naming the engine and the cause, and nothing is charged: a client that asked for web
search never gets an answer that silently lacks it.
"""

import re
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from gateway.errors import GatewayError, bad_request
from gateway.plugins import ENTRY_SOURCES, JSON, Context, Plugin, register
from gateway.search import (
    MAX_CONTENT,
    MAX_TITLE,
    MAX_URL,
    Result,
    SearchSettings,
    SearchUnavailable,
    search,
)

DEFAULT_RESULTS = 5
MAX_RESULTS = 25
MAX_QUERY = 400  # characters of the user's message sent to the engine
# The reference's default search prompt; {date} is today's date (UTC).
SEARCH_PROMPT = (
    "A web search was conducted on {date}. Incorporate the following web search results into "
    "your response.\n\nIMPORTANT: Cite them using markdown links named using the domain of "
    "the source.\nExample: [nytimes.com](https://nytimes.com/some-page)."
)
# Engines the reference names: all served by the engine this server is configured with.
ENGINE_NAMES = frozenset({"native", "exa", "firecrawl", "parallel", "perplexity", "auto",
                          "local", "searxng", "brave"})
SERVER_TOOLS = frozenset({"openrouter:web_search", "web_search", "web_search_preview",
                          "web_search_preview_2025_03_11", "web_search_2025_08_26"})
LINK_RE = re.compile(r"\[([^\]\n]{0,300})\]\((https?://[^)\s]{1,600})\)")


def _strings(options: JSON, name: str) -> list[str]:
    value = options.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"'plugins[web].{name}' must be an array of domains")
    return value


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content
                        if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def _unfinished(tail: str) -> bool:
    """Could `tail` (from a `[` to the end of what streamed) still become a markdown link?"""
    if len(tail) > 1000 or "\n" in tail:
        return False
    close = tail.find("]")
    if close < 0 or close + 1 == len(tail):
        return True
    return tail[close + 1] == "(" and ")" not in tail[close + 1:]


def citation(result: Result, start: int, end: int) -> JSON:
    return {"type": "url_citation", "url_citation": {
        "url": result.url, "title": result.title, "content": result.content,
        "start_index": start, "end_index": end}}


class WebSearch(Plugin):
    id = "web"
    order = 20  # after files are read, before compression sees the prompt

    def __init__(self, options: JSON) -> None:
        super().__init__(options)
        limit = options.get("max_results", DEFAULT_RESULTS)
        if not isinstance(limit, int) or isinstance(limit, bool) \
                or not 1 <= limit <= MAX_RESULTS:
            raise bad_request(f"'plugins[web].max_results' must be an integer from 1 to "
                              f"{MAX_RESULTS}")
        prompt = options.get("search_prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise bad_request("'plugins[web].search_prompt' must be a string")
        engine = options.get("engine")
        if engine is not None and engine not in ENGINE_NAMES:
            raise bad_request(f"'plugins[web].engine' must be one of "
                              f"{', '.join(sorted(ENGINE_NAMES))}")
        self.max_results = limit
        self.prompt = prompt
        self.include = _strings(options, "include_domains")
        self.exclude = _strings(options, "exclude_domains")
        self.results: list[Result] | None = None  # None until searched (once per request)
        self.cited: set[int] = set()
        self.text = ""  # the answer streamed so far
        self.scanned = 0  # where the next citation may start in `text`

    def _settings(self, ctx: Context) -> SearchSettings:
        return ctx.settings.web_search if ctx.settings is not None else SearchSettings()

    def bound(self, ctx: Context) -> tuple[int, int]:
        settings = self._settings(ctx)
        per_result = (MAX_CONTENT + MAX_TITLE + MAX_URL + 32) * 4  # UTF-8: 4 bytes at most
        prompt = len((self.prompt or SEARCH_PROMPT).encode()) + 64
        return (self.max_results * per_result + prompt,
                self.max_results * int(settings.price_per_result * 10**9))

    async def before(self, ctx: Context) -> None:
        messages = ctx.body.get("messages") or []
        last = next((i for i in range(len(messages) - 1, -1, -1)
                     if isinstance(messages[i], dict) and messages[i].get("role") == "user"),
                    None)
        if last is None:
            return
        if self.results is None:
            await self._search(ctx, _text(messages[last].get("content")))
        if not self.results:
            return
        block = self._block()
        message = dict(messages[last])
        content = message.get("content")
        if isinstance(content, list):
            message["content"] = [*content, {"type": "text", "text": block}]
        else:
            message["content"] = f"{content or ''}\n\n{block}"
        ctx.body["messages"] = [*messages[:last], message, *messages[last + 1:]]

    async def _search(self, ctx: Context, text: str) -> None:
        settings = self._settings(ctx)
        query = " ".join(text.split())[:MAX_QUERY]
        if not query or ctx.session is None:
            self.results = []
            return
        try:
            self.results = await search(ctx.session, settings, query, self.max_results,
                                        self.include, self.exclude)
        except SearchUnavailable as exc:
            raise GatewayError(
                503, f"Web search is unavailable: {exc}. Retry shortly, or send the request "
                     "without web search.",
                {"error_type": "search_unavailable", "engine": settings.label},
                retry_after=5) from None
        found = len(self.results)
        nanos = found * int(settings.price_per_result * 10**9)
        ctx.charge(self.id, nanos)
        ctx.usage_fields["server_tool_use_details"] = {"web_search_requests": 1}
        ctx.event_fields.update(num_search_results=found, web_search_engine=settings.label)
        ctx.stage("plugin", {
            "name": "web-search",
            "summary": f"{found} result{'' if found == 1 else 's'} from {settings.label}",
            "data": {"engine": settings.label, "query": query,
                     "results": [r.url for r in self.results]},
            "cost_usd": float(Decimal(nanos).scaleb(-9))})

    def _block(self) -> str:
        assert self.results is not None
        prompt = (self.prompt or SEARCH_PROMPT).replace(
            "{date}", time.strftime("%B %d, %Y", time.gmtime()))
        items = [f"[{i}] {r.title}\nURL: {r.url}\n{r.content}"
                 for i, r in enumerate(self.results, 1)]
        return prompt + "\n\n" + "\n\n".join(items)

    # -- citations -----------------------------------------------------------------------

    def _match(self, url: str) -> int | None:
        """The result a cited URL points at: the same URL, else the first on its host."""
        assert self.results is not None
        stripped = url.rstrip("/")
        for i, result in enumerate(self.results):
            if result.url.rstrip("/") == stripped:
                return i
        host = _host(url)
        return next((i for i, r in enumerate(self.results) if _host(r.url) == host), None)

    def _cite(self, upto_end: bool) -> list[JSON]:
        """Annotations for the complete links in the text not scanned yet."""
        found: list[JSON] = []
        text = self.text
        while True:
            start = text.find("[", self.scanned)
            if start < 0:
                self.scanned = len(text)
                return found
            link = LINK_RE.match(text, start)
            if link is None:
                if not upto_end and _unfinished(text[start:]):
                    self.scanned = start  # wait for the rest of the link
                    return found
                self.scanned = start + 1  # a bracket that is not a link
                continue
            self.scanned = link.end()
            index = self._match(link.group(2))
            if index is not None:
                self.cited.add(index)
                assert self.results is not None
                found.append(citation(self.results[index], link.start(), link.end()))

    def on_delta(self, ctx: Context, delta: JSON) -> JSON | None:
        content = delta.get("content")
        if self.results and isinstance(content, str) and content:
            self.text += content
            notes = self._cite(upto_end=False)
            if notes:
                delta["annotations"] = [*(delta.get("annotations") or ()), *notes]
        return delta

    def at_end(self, ctx: Context, message: JSON) -> JSON | None:
        if not self.results:
            return None
        if not ctx.stream:
            content = message.get("content")
            self.text = content if isinstance(content, str) else ""
        notes = self._cite(upto_end=True)
        notes += [citation(r, 0, 0) for i, r in enumerate(self.results) if i not in self.cited]
        if not ctx.stream:
            for note in notes:
                ctx.annotate(note)
            return None
        return {"annotations": notes} if notes else None


def server_tool_entries(body: JSON) -> list[JSON]:
    """`tools: [{"type": "openrouter:web_search", "parameters": {...}}]` (or OpenAI's
    `web_search` shorthand) -> a `web` plugin entry; the tool is removed from `tools`."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    entries: list[JSON] = []
    kept = []
    for tool in tools:
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind in SERVER_TOOLS:
            assert isinstance(tool, dict)
            params: JSON = tool["parameters"] if isinstance(tool.get("parameters"), dict) \
                else tool
            entry: JSON = {"id": "web"}
            for ours, theirs in (("max_results", "max_results"), ("engine", "engine"),
                                 ("include_domains", "allowed_domains"),
                                 ("exclude_domains", "excluded_domains")):
                if params.get(theirs) is not None:
                    entry[ours] = params[theirs]
            entries.append(entry)
        elif isinstance(kind, str) and kind.startswith("openrouter:"):
            raise bad_request(f"Unsupported server tool '{kind}'. Supported: "
                              "openrouter:web_search", supported_server_tools=[
                                  "openrouter:web_search"])
        else:
            kept.append(tool)
    if entries:
        if kept:
            body["tools"] = kept
        else:
            body.pop("tools")
            body.pop("tool_choice", None)
    return entries[:1]


register(WebSearch)
ENTRY_SOURCES.append(server_tool_entries)
