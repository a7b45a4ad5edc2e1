"""ASGI entry point: routing, the completion pipeline and the control API.

Served as ``uvicorn simulator.app:app``. Every path starts with the simulated provider's
slug, so one process imitates the whole fleet:

- ``POST /{provider}/v1/chat/completions``                          OpenAI format
- ``POST /{provider}/v1/messages``                                  Anthropic format
- ``POST /{provider}/v1beta/models/{model}:generateContent``        Gemini format
- ``POST /{provider}/v1beta/models/{model}:streamGenerateContent``  (``?alt=sse`` for SSE)
- ``GET /healthz`` and ``/_control/...`` (see README.md)
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from simulator import embeddings, engine, images, search
from simulator.cache import CacheRequest, PromptCache
from simulator.formats.anthropic import AnthropicFormat
from simulator.formats.base import ApiError, Context, Format, Parsed, Request
from simulator.formats.gemini import GeminiFormat
from simulator.formats.openai import OpenAIFormat
from simulator.knobs import KnobError, Knobs, RequestRecord, Store

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

GEMINI_RE = re.compile(
    r"^/(?P<provider>[^/]+)/(?:v1beta|v1|v1alpha)/(?:[^:]*/)?models/(?P<model>[^/:]+)"
    r":(?P<action>generateContent|streamGenerateContent)$"
)
EMBED_RE = re.compile(
    r"^/(?P<provider>[^/]+)/(?:v1beta|v1)/models/(?P<model>[^/:]+)"
    r":(?P<action>embedContent|batchEmbedContents)$"
)
DEFAULT_5XX = {"openai": [500, 503], "anthropic": [529, 500], "gemini": [503, 500]}
ID_PREFIX = {"openai": "chatcmpl-", "anthropic": "msg_01", "gemini": ""}
# Below this, sleeping costs more than it is worth: tokens are sent in one batch instead.
MIN_SLEEP_S = 0.002
JSON_HEADERS = [(b"content-type", b"application/json")]


class Disconnect:
    """Watches the receive channel, so generation stops as soon as the client goes away."""

    def __init__(self, receive: Receive) -> None:
        self.event = asyncio.Event()
        self._task = asyncio.create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.event.set()
                return

    @property
    def happened(self) -> bool:
        return self.event.is_set()

    async def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if the client disconnected meanwhile."""
        if self.event.is_set():
            return True
        try:
            await asyncio.wait_for(self.event.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self._task.cancel()


async def read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def send_json(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = body if isinstance(body, bytes) else orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": JSON_HEADERS
            + [(b"content-length", str(len(payload)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _encode_headers(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


def _guess_model(req: Request) -> str:
    if req.path_model:
        return req.path_model
    try:
        body = orjson.loads(req.body)
    except orjson.JSONDecodeError:
        return ""
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else ""


class Simulator:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store if store is not None else Store.from_env()
        self.openai = OpenAIFormat()
        self.anthropic = AnthropicFormat()
        self.gemini = GeminiFormat()
        self.cache = PromptCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/healthz":
            await send_json(send, 200, {"status": "ok"})
            return
        if path.startswith("/_control/"):
            await self._control(scope, receive, send)
            return
        if path == "/search" or path.startswith("/search/"):
            await search.app(scope, receive, send)  # the local search stand-in
            return

        fmt: Format | None = None
        provider = model = action = None
        parts = path.split("/")
        embedding = EMBED_RE.match(path)
        if embedding or (len(parts) == 4 and parts[2:] == ["v1", "embeddings"]):
            await self._embed(scope, receive, send, parts[1], embedding)
            return
        if len(parts) == 5 and parts[2] == "v1" and parts[3:] == ["chat", "completions"]:
            fmt, provider = self.openai, parts[1]
        elif len(parts) == 4 and parts[2:] == ["v1", "messages"]:
            fmt, provider = self.anthropic, parts[1]
        elif len(parts) == 4 and parts[2:] == ["v1", "models"] and method == "GET":
            await self._list_models(parts[1], send)
            return
        elif match := GEMINI_RE.match(path):
            fmt, provider = self.gemini, match["provider"]
            model, action = unquote(match["model"]), match["action"]
        if fmt is None or provider is None:
            await send_json(send, 404, {"error": {"message": f"no route for {path}"}})
            return
        if method != "POST":
            await send_json(send, 405, {"error": {"message": f"{method} not allowed"}})
            return
        body = await read_body(receive)
        if body is None:
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        req = Request(method, path, query, headers, body, provider, model, action)
        await self._complete(fmt, req, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _list_models(self, provider: str, send: Send) -> None:
        models = self.store.knobs(provider).models or []
        data = [{"id": m, "object": "model", "created": 0, "owned_by": provider} for m in models]
        await send_json(send, 200, {"object": "list", "data": data})

    # -- completions -----------------------------------------------------------------------

    def _admit(self, fmt: Format, req: Request, knobs: Knobs) -> Parsed:
        """Everything that can refuse a request before the first token, in a fixed order."""
        if knobs.is_down(time.time()):
            raise fmt.unavailable()
        fmt.check_auth(req, knobs)
        dice = self.store.dice(req.provider)
        if knobs.rate_limit_rate and dice.random() < knobs.rate_limit_rate:
            raise fmt.rate_limited(knobs.retry_after_s)
        parsed = fmt.parse(req, knobs)
        if knobs.models is not None and parsed.model not in knobs.models:
            raise fmt.model_not_found(parsed.model)
        if knobs.error_rate and dice.random() < knobs.error_rate:
            raise fmt.server_error(dice.choice(knobs.error_statuses or DEFAULT_5XX[fmt.name]))
        return parsed

    async def _complete(self, fmt: Format, req: Request, receive: Receive, send: Send) -> None:
        knobs = self.store.knobs(req.provider)
        request_id = ID_PREFIX[fmt.name] + uuid.uuid4().hex[:24]
        rec = RequestRecord(request_id, req.provider, fmt.name, "", False, time.time())
        self.store.record(rec)
        sim_header = [("x-simulator-request-id", request_id)]
        try:
            parsed = self._admit(fmt, req, knobs)
        except ApiError as err:
            rec.model = _guess_model(req)
            rec.status, rec.error, rec.done, rec.ended_at = err.status, err.kind, True, time.time()
            headers = _encode_headers(err.headers + sim_header)
            await send_json(send, err.status, fmt.render_error(err), headers)
            return

        rec.model, rec.streamed = parsed.model, parsed.stream
        rec.signatures = parsed.conv.signatures
        plan = engine.plan(
            parsed.conv,
            provider=req.provider,
            model=parsed.model,
            length=(knobs.completion_tokens[0], knobs.completion_tokens[-1]),
            text_before_tool=fmt.text_before_tool,
            degraded=bool(knobs.degraded_rate)
            and self.store.dice(req.provider).random() < knobs.degraded_rate,
            malformed=self.store.dice(req.provider).choice(knobs.malformed_json_kinds)
            if knobs.malformed_json_rate and parsed.conv.json_schema is not None
            and self.store.dice(req.provider).random() < knobs.malformed_json_rate else None,
        )
        if parsed.options.get("image_output"):
            last = parsed.conv.messages[-1].texts if parsed.conv.messages else []
            plan.images = [images.render_b64(f"{parsed.model}\n{' '.join(last)}")]
        caching = parsed.options.get("cache")
        if isinstance(caching, CacheRequest):
            plan.cached_tokens, plan.cache_write_tokens = self.cache.use(
                req.provider, parsed.model, parsed.conv, caching)
        rec.prompt_tokens, rec.planned_tokens = plan.prompt_tokens, plan.completion_tokens
        ctx = Context(req.provider, request_id, parsed.model, options=parsed.options)
        headers = _encode_headers(fmt.response_headers(ctx) + sim_header)
        watcher = Disconnect(receive)
        try:
            if parsed.stream:
                await self._stream(fmt, ctx, plan, knobs, watcher, rec, send, headers)
            else:
                await self._respond(fmt, ctx, plan, knobs, watcher, rec, send, headers)
        finally:
            watcher.close()
            rec.done, rec.ended_at = True, time.time()

    async def _respond(
        self,
        fmt: Format,
        ctx: Context,
        plan: engine.Plan,
        knobs: Knobs,
        watcher: Disconnect,
        rec: RequestRecord,
        send: Send,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        ttft = random.uniform(*knobs.ttft_range()) / 1000
        tps = knobs.tokens_per_second
        gen_time = plan.completion_tokens / tps if tps > 0 else 0.0
        started = time.monotonic()
        if ttft + gen_time > 0 and await watcher.wait(ttft + gen_time):
            # The upstream stops working when its client leaves; count what it had produced.
            elapsed = time.monotonic() - started - ttft
            produced = int(elapsed * tps) if tps > 0 and elapsed > 0 else 0
            rec.client_disconnected = True
            rec.completion_tokens = min(produced, plan.completion_tokens)
            return
        rec.completion_tokens = plan.completion_tokens
        rec.finish_reason = plan.finish
        await send_json(send, 200, fmt.response(ctx, plan), headers)

    async def _stream(
        self,
        fmt: Format,
        ctx: Context,
        plan: engine.Plan,
        knobs: Knobs,
        watcher: Disconnect,
        rec: RequestRecord,
        send: Send,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        content_type = fmt.stream_content_type
        if fmt.name == "gemini" and not ctx.options.get("sse"):
            content_type = "application/json; charset=UTF-8"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"cache-control", b"no-cache"),
                    *headers,
                ],
            }
        )
        enc = fmt.encoder(ctx)
        dice = self.store.dice(ctx.provider)
        total = plan.completion_tokens
        fail_at = knobs.fail_after_tokens
        rate = knobs.midstream_failure_rate
        if fail_at is None and rate and dice.random() < rate:
            fail_at = dice.randint(0, max(0, total - 1))
        if fail_at is not None and fail_at >= total:
            fail_at = None

        loop = asyncio.get_running_loop()
        ttft = random.uniform(*knobs.ttft_range()) / 1000
        interval = 1 / knobs.tokens_per_second if knobs.tokens_per_second > 0 else 0.0
        first_at = loop.time() + ttft
        buf = bytearray()
        emitted = 0
        begun = False

        async def flush(more: bool = True) -> None:
            await send({"type": "http.response.body", "body": bytes(buf), "more_body": more})
            buf.clear()

        for index, seg in enumerate(plan.segments):
            opened = False
            for piece in seg.pieces:
                if emitted == fail_at:
                    if not begun:
                        buf += enc.start(plan)
                    buf += enc.error(fmt.midstream_error())
                    await flush(more=False)
                    rec.completion_tokens, rec.error = emitted, "midstream_failure"
                    return
                delay = first_at + emitted * interval - loop.time()
                if delay > MIN_SLEEP_S or (emitted == 0 and delay > 0):
                    if buf:
                        await flush()
                    stopped = await watcher.wait(delay)
                else:
                    stopped = watcher.happened
                if stopped:
                    rec.completion_tokens, rec.client_disconnected = emitted, True
                    return
                if not begun:
                    buf += enc.start(plan)
                    begun = True
                if not opened:
                    buf += enc.segment_start(index, seg)
                    opened = True
                buf += enc.piece(index, seg, piece)
                emitted += 1
                if emitted == 1:
                    await flush()  # the first token goes out alone: that is what TTFT measures
            if not begun:
                buf += enc.start(plan)
                begun = True
            if not opened:
                buf += enc.segment_start(index, seg)
            buf += enc.segment_end(index, seg)
        if not begun:
            buf += enc.start(plan)
        buf += enc.finish(plan)
        await flush(more=False)
        rec.completion_tokens, rec.finish_reason = emitted, plan.finish

    # -- embeddings ------------------------------------------------------------------------

    async def _embed(self, scope: Scope, receive: Receive, send: Send, provider: str,
                     gemini: re.Match[str] | None) -> None:
        fmt: Format = self.gemini if gemini else self.openai
        if scope["method"] != "POST":
            await send_json(send, 405, {"error": {"message": f"{scope['method']} not allowed"}})
            return
        raw = await read_body(receive)
        if raw is None:
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        req = Request("POST", scope["path"], query, headers, raw, provider)
        knobs = self.store.knobs(provider)
        try:
            if knobs.is_down(time.time()):
                raise fmt.unavailable()
            fmt.check_auth(req, knobs)
            dice = self.store.dice(provider)
            if knobs.rate_limit_rate and dice.random() < knobs.rate_limit_rate:
                raise fmt.rate_limited(knobs.retry_after_s)
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = None
            if not isinstance(body, dict):
                raise ApiError(400, "invalid_request", "Invalid JSON payload received.")
            if knobs.error_rate and dice.random() < knobs.error_rate:
                raise fmt.server_error(dice.choice(knobs.error_statuses or DEFAULT_5XX[fmt.name]))
            if gemini:
                answer = embeddings.gemini_response(
                    body, unquote(gemini["model"]), gemini["action"] == "batchEmbedContents")
            else:
                answer = embeddings.openai_response(body)
        except ApiError as err:
            await send_json(send, err.status, fmt.render_error(err), _encode_headers(err.headers))
            return
        await send_json(send, 200, answer)

    # -- control API -----------------------------------------------------------------------

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        parts = scope["path"].split("/")[2:]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        body = await read_body(receive)
        if body is None:
            return
        if parts == ["reset"] and method == "POST":
            self.store.reset()
            self.cache.clear()
            await send_json(send, 200, {"status": "ok"})
        elif parts == ["providers"] and method == "GET":
            await send_json(send, 200, self.store.all_knobs())
        elif len(parts) == 2 and parts[0] == "providers" and parts[1]:
            provider = parts[1]
            if method == "GET":
                await send_json(send, 200, self.store.knobs(provider).to_json())
            elif method in ("PUT", "PATCH"):
                try:
                    knobs = self.store.update(provider, orjson.loads(body or b"{}"))
                except (KnobError, orjson.JSONDecodeError) as exc:
                    await send_json(send, 400, {"error": str(exc)})
                    return
                await send_json(send, 200, knobs.to_json())
            elif method == "DELETE":
                await send_json(send, 200, self.store.revert(provider).to_json())
            else:
                await send_json(send, 405, {"error": f"{method} not allowed"})
        elif parts == ["requests"] and method == "GET":
            try:
                limit = int(query.get("limit", "100"))
            except ValueError:
                limit = 100
            records = self.store.records(query.get("provider"), limit)
            await send_json(send, 200, {"requests": [r.to_json() for r in records]})
        elif len(parts) == 2 and parts[0] == "requests" and method == "GET":
            rec = self.store.get_record(parts[1])
            if rec is None:
                await send_json(send, 404, {"error": f"no request {parts[1]}"})
            else:
                await send_json(send, 200, rec.to_json())
        else:
            await send_json(send, 404, {"error": f"no control route {method} {scope['path']}"})


app = Simulator()
