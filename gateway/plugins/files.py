"""The file-parser plugin (reference §21.2): PDF `file` parts for every model.

A chat `file` part (`{"type": "file", "file": {"filename", "file_data"}}`, `file_data` a
base64 data URL or an http(s) URL) reaches a model that reads files (catalog input modality
`file`) as the file itself (engine `native`, the default there), and any other model as the
PDF's text, extracted locally with pypdf (engines `pdf-text` and `cloudflare-ai`, free, the
default there). `mistral-ocr` is not offered here and is refused with a 400.

Per request, once, right after the request is parsed (`read_files`, called by the app): each
file is read (a data URL decoded, a URL fetched), checked and parsed, so a broken, encrypted or
oversized file is a 400 before any model is called, and the route, compression and the hold
count the file's real size. The plugin then turns itself on and, per attempt, gives each file
to the model natively or as text. Parsed text is cached in Redis by the SHA-256 of the file's
bytes for `GATEWAY_FILE_CACHE_TTL`, and the answer carries a `file` annotation with that hash
and the text: a client that sends the annotation back on the assistant message is not parsed
again at all, one that only resends the file is served from the cache.
"""

import asyncio
import base64
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver

from gateway import keys, pdf
from gateway.catalog import Model
from gateway.errors import bad_request
from gateway.plugins import JSON, Context, Plugin, register_implicit
from gateway.redis_client import Redis
from gateway.request import CHARS_PER_TOKEN, IMAGE_TOKENS, ChatRequest

PLUGIN_ID = "file-parser"
TEXT_ENGINES = frozenset({"pdf-text", "cloudflare-ai"})
ENGINES = TEXT_ENGINES | {"native", "mistral-ocr"}
# A page read natively is billed as its text plus a picture of the page (Anthropic counts up
# to ~1,600 tokens per page image): what the hold adds per page beyond the text's bytes.
NATIVE_PAGE_TOKENS = 1600
# Bytes around the text of a file in the prompt (the <file name="..."> framing).
FRAMING_BYTES = 64


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Limits:
    max_pages: int = 200
    max_bytes: int = 20 * 1024 * 1024
    fetch_timeout: float = 15.0
    parse_timeout: float = 30.0
    cache_ttl: int = 24 * 3600
    # USD per 1,000 pages parsed locally (0: free, as the reference's pdf-text engine).
    price_per_1000_pages: Decimal = Decimal(0)
    # Fetching a file from a loopback or private address (a test server, an intranet
    # document store) must be allowed explicitly: otherwise a client could make the gateway
    # read its own Redis or a cloud metadata service.
    fetch_private: bool = False

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(
            max_pages=_int("GATEWAY_PDF_MAX_PAGES", 200),
            max_bytes=_int("GATEWAY_FILE_MAX_BYTES", 20 * 1024 * 1024),
            fetch_timeout=float(os.environ.get("GATEWAY_FILE_FETCH_TIMEOUT") or 15),
            parse_timeout=float(os.environ.get("GATEWAY_PDF_PARSE_TIMEOUT") or 30),
            cache_ttl=_int("GATEWAY_FILE_CACHE_TTL", 24 * 3600),
            price_per_1000_pages=Decimal(os.environ.get("GATEWAY_PDF_PRICE_PER_1000_PAGES")
                                         or 0),
            fetch_private=os.environ.get("GATEWAY_FILE_FETCH_PRIVATE") == "1",
        )


LIMITS = Limits.from_env()


@dataclass
class FileInput:
    """One file part of the request, once read."""

    message: int
    part: int
    name: str
    digest: str
    text: str
    pages: int
    parsed_here: bool  # parsed by this request (not the cache, not an annotation)
    # A file sent as a URL: the bytes the gateway fetched, as a data URL.
    fetched: str | None = None

    @property
    def as_text(self) -> JSON:
        return {"type": "text", "text": f'<file name="{self.name}">\n{self.text}\n</file>'}

    @property
    def as_fetched(self) -> JSON:
        """For a model that reads files: the bytes the gateway fetched and checked, not the
        URL (providers differ in which URLs they will fetch, and the file may have changed)."""
        return {"type": "file", "file": {"filename": self.name, "file_data": self.fetched}}

    @property
    def annotation(self) -> JSON:
        return {"type": "file", "file": {"hash": self.digest, "name": self.name,
                                         "content": [{"type": "text", "text": self.text}]}}


def file_parts(body: JSON) -> list[tuple[int, int, JSON]]:
    """(message index, part index, part) of every `file` part of the request's messages."""
    found = []
    for i, msg in enumerate(body.get("messages") or ()):
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):
            for j, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "file":
                    found.append((i, j, part))
    return found


def sent_back(body: JSON) -> dict[str, str]:
    """hash -> text of the `file` annotations the client sent back on assistant messages."""
    known: dict[str, str] = {}
    for msg in body.get("messages") or ():
        if not isinstance(msg, dict) or msg.get("role") != "assistant":
            continue
        for note in msg.get("annotations") or ():
            file = note.get("file") if isinstance(note, dict) else None
            if not (note.get("type") == "file" and isinstance(file, dict)
                    and isinstance(file.get("hash"), str)):
                continue
            texts = [c.get("text") for c in file.get("content") or ()
                     if isinstance(c, dict) and c.get("type") == "text"]
            known[file["hash"]] = "\n\n".join(t for t in texts if isinstance(t, str))
    return known


def reads_files(model: Model | None) -> bool:
    return model is not None and "file" in model.input_modalities


class _PublicOnly(AbstractResolver):
    """Resolves like the default resolver, then drops loopback, private and link-local
    addresses, so a URL (or a DNS answer changed between checks) cannot reach internal hosts."""

    def __init__(self) -> None:
        self.inner = aiohttp.DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        answers = [a for a in await self.inner.resolve(host, port, family)
                   if ipaddress.ip_address(a["host"]).is_global]
        if not answers:
            raise OSError(f"{host} resolves to no public address")
        return answers

    async def close(self) -> None:
        await self.inner.close()


async def read_files(req: ChatRequest, redis: Redis | None,
                     models: Mapping[str, Model] | None = None) -> None:
    """Read, check and parse the request's file parts, once, before the plugins and the route:
    a file that cannot be read is a 400 before anything else, and the request's measures
    (context checks, compression, the hold) count each file at its real size, not as an image.

    `models` (the catalog): a file counts at its native size (its text and a picture of each
    page) only if one of the requested models may read it natively; an unknown or router
    model counts as one that may."""
    if not req.images:
        return  # the request parser counts file parts among `images`: no scan without media
    parts = file_parts(req.body)
    if not parts:
        return
    known = sent_back(req.body)
    req.files = list(await asyncio.gather(*(
        _read(redis, LIMITS, i, j, part, known) for i, j, part in parts)))
    may_be_native = models is None or any(
        m.partition(":")[0] not in models or reads_files(models[m.partition(":")[0]])
        for m in req.models)
    for file in req.files:
        as_text = len(file.as_text["text"].encode()) + FRAMING_BYTES
        native = len(file.text.encode()) + file.pages * NATIVE_PAGE_TOKENS
        req.prompt_bound += (max(as_text, native) if may_be_native else as_text) - IMAGE_TOKENS
        req.prompt_tokens += as_text // CHARS_PER_TOKEN - IMAGE_TOKENS
        req.images -= 1


def with_parts(messages: list[JSON], parts: list[tuple[FileInput, JSON]]) -> list[JSON]:
    """The messages with these files' parts replaced (new lists and message objects where
    something changed: the client's are never modified in place)."""
    if not parts:
        return messages
    messages = list(messages)
    for file, part in parts:
        msg = messages[file.message]
        content = list(msg["content"])
        content[file.part] = part
        messages[file.message] = {**msg, "content": content}
    return messages


def with_text(messages: list[JSON], files: list[FileInput]) -> list[JSON]:
    return with_parts(messages, [(f, f.as_text) for f in files])


def inline_text(req: ChatRequest) -> None:
    """Every file as its text in the request itself, for the paths that do not run the plugins
    per attempt: a mixture of agents re-parses its body for each sub-call."""
    if req.files:
        req.body["messages"] = with_text(req.body["messages"], req.files)


async def _read(redis: Redis | None, limits: Limits, i: int, j: int, part: JSON,
                known: dict[str, str]) -> FileInput:
    where = f"messages[{i}].content[{j}]"
    file = part.get("file")
    if not isinstance(file, dict):
        raise bad_request(f"{where}.file must be an object {{filename, file_data}}")
    name = file.get("filename") if isinstance(file.get("filename"), str) else None
    name = name or f"file-{i}-{j}.pdf"
    data_url = file.get("file_data") or file.get("file_url")
    if not isinstance(data_url, str) or not data_url:
        if file.get("file_id"):
            raise bad_request(f"{where}.file.file_id is not supported here: send the file "
                              "itself as file_data (a base64 data URL or an https URL)")
        raise bad_request(f"{where}.file.file_data must be a base64 data URL or a URL")
    if data_url.startswith("data:"):
        media_type, data = pdf.decode_data_url(data_url, name)
        if len(data) > limits.max_bytes:
            raise pdf.too_large(name, limits.max_bytes)
        if media_type not in ("application/pdf", "application/octet-stream"):
            raise pdf.file_error(name, f"only PDF files can be read, not {media_type}")
        fetched = None
    else:
        # Fetched every time: the cache is by content, so a URL whose document changed
        # is read anew, and knowing a URL never reveals a text someone else fetched.
        data = await _fetch(limits, data_url, name)
        fetched = "data:application/pdf;base64," + base64.b64encode(data).decode()
    digest = pdf.digest(data)
    if digest in known:
        return FileInput(i, j, name, digest, known[digest], 0, False, fetched)
    cached = await _cached(redis, digest)
    if cached is not None:
        return FileInput(i, j, name, digest, cached.text, cached.pages, False, fetched)
    parsed = await pdf.parse(data, name, limits.max_pages, limits.parse_timeout)
    if redis is not None:
        await redis.execute("SET", keys.parsed_file(digest),
                            orjson.dumps({"text": parsed.text, "pages": parsed.pages}),
                            "EX", limits.cache_ttl)
    return FileInput(i, j, name, digest, parsed.text, parsed.pages, True, fetched)


async def _cached(redis: Redis | None, digest: str) -> pdf.Parsed | None:
    if redis is None:
        return None
    raw = await redis.execute("GET", keys.parsed_file(digest))
    if raw is None:
        return None
    record = orjson.loads(raw)
    return pdf.Parsed(record["text"], int(record["pages"]))


async def _fetch(limits: Limits, url: str, name: str) -> bytes:
    resolver = None if limits.fetch_private else _PublicOnly()
    connector = aiohttp.TCPConnector(resolver=resolver, limit=1)
    timeout = aiohttp.ClientTimeout(total=limits.fetch_timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        return await pdf.fetch(session, url, name, max_bytes=limits.max_bytes,
                               timeout=limits.fetch_timeout, public_only=not limits.fetch_private)


@register_implicit
class FileParser(Plugin):
    """Per attempt, each file read by `read_files` goes natively or as its text."""

    id = PLUGIN_ID
    order = 10  # inputs first: compression must see the files' text

    def __init__(self, options: JSON) -> None:
        super().__init__(options)
        settings = options.get("pdf")
        if settings is not None and not isinstance(settings, dict):
            raise bad_request("'plugins[file-parser].pdf' must be an object {engine}")
        engine = (settings or {}).get("engine")
        if engine is not None and engine not in ENGINES:
            raise bad_request(f"Unknown PDF engine '{engine}'. Engines: "
                              + ", ".join(sorted(ENGINES)), engines=sorted(ENGINES))
        if engine == "mistral-ocr":
            raise bad_request("PDF engine 'mistral-ocr' is not available here: use 'pdf-text' "
                              "(text extraction, free) or 'native' (models that read files)",
                              engine=engine)
        self.engine: str | None = engine

    @classmethod
    def implicit(cls, req: ChatRequest) -> JSON | None:
        return {} if req.files else None

    @staticmethod
    def _price(files: list[FileInput]) -> int:
        """Nano-dollars for the pages parsed by this request (the cache's and the client's
        annotations' are free: a conversation does not pay twice)."""
        pages = sum(f.pages for f in files if f.parsed_here)
        return int(LIMITS.price_per_1000_pages * pages * 10**6)

    def bound(self, ctx: Context) -> tuple[int, int]:
        # The files' size is in the request's own measures already (`read_files`).
        return 0, self._price(ctx.req.files)

    # -- each attempt ------------------------------------------------------------------------

    def _native(self, ctx: Context, file: FileInput) -> bool:
        if self.engine in TEXT_ENGINES or not file.pages:
            return False  # asked for text, or the text came back from the client
        return reads_files(ctx.model)

    async def before(self, ctx: Context) -> None:
        files: list[FileInput] = ctx.req.files
        if not files:
            return
        if self._price(files):
            ctx.charge(PLUGIN_ID, self._price(files))
        as_text = [f for f in files if not self._native(ctx, f)]
        fetched = [(f, f.as_fetched) for f in files if f.fetched and f not in as_text]
        ctx.body["messages"] = with_parts(ctx.body["messages"],
                                          [(f, f.as_text) for f in as_text] + fetched)
        annotations = [f.annotation for f in as_text]
        # A fallback calls `before` again: the annotations are this attempt's, not added twice.
        ctx.annotations[:] = [a for a in ctx.annotations if a.get("type") != "file"]
        ctx.annotations.extend(annotations)
        self._stage(ctx, as_text)

    def _stage(self, ctx: Context, as_text: list[FileInput]) -> None:
        """The `openrouter_metadata.pipeline` stage of this attempt: files given as text (a
        file passed natively changed nothing, so it adds no stage)."""
        meta = ctx.response_fields.get("openrouter_metadata")
        if meta is not None:  # an earlier attempt's stage of this plugin goes
            meta["pipeline"] = [s for s in meta["pipeline"] if s.get("name") != PLUGIN_ID]
            if not meta["pipeline"]:
                del ctx.response_fields["openrouter_metadata"]
        if not as_text:
            return
        pages = sum(f.pages for f in as_text if f.parsed_here)
        ctx.stage("plugin", {
            "name": PLUGIN_ID,
            "summary": f"{len(as_text)} file{'s' * (len(as_text) != 1)} as text, "
                       f"{pages} page{'s' * (pages != 1)} parsed",
            "data": {"engine": self.engine or "pdf-text",
                     "files": [{"name": f.name, "hash": f.digest, "pages": f.pages,
                                "parsed": f.parsed_here} for f in as_text]},
            "cost_usd": float(Decimal(ctx.costs.get(PLUGIN_ID, 0)).scaleb(-9))})

    def at_end(self, ctx: Context, message: JSON) -> JSON | None:
        if not ctx.stream:
            return None  # the pipeline adds ctx.annotations to the message
        files = [a for a in ctx.annotations if a.get("type") == "file"]
        return {"annotations": files} if files else None
