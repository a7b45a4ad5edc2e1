"""POST /api/v1/chat/completions and /api/v1/completions: DESIGN.md "Data flow of one completion".

authenticate -> parse -> plan the route (gateway/app.py), then here: reserve -> call endpoints
in order (fallback before the first byte) -> answer in OpenAI's shape -> settle once.

Every path that reserved ends in exactly one `Completions.settle`, called from a `finally`:
whatever happened (an answer, an upstream error, a client gone, a timeout, a bug in a
decoder), the generation is charged what reached the user, or released if nothing did. A
settle that cannot reach Redis is spooled to disk and replayed (gateway/spool.py).
"""

import asyncio
import logging
import os
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import orjson

from gateway import byok, images, reasoning
from gateway.attribution import Attribution
from gateway.attribution import from_scope as attribution_from
from gateway.auth import Caller
from gateway.catalog import Endpoint, Model
from gateway.content import Transcript
from gateway.errors import GatewayError
from gateway.metering import Hold, Meter
from gateway.plugins import Pipeline, compression
from gateway.pricing import Cost, Usage, cost, max_cost_nanos
from gateway.providers import ADAPTERS
from gateway.providers.base import DecoderState, StreamDecoder
from gateway.ratelimit import FreeLimits
from gateway.request import ChatRequest
from gateway.stats import Stats, failure_kind
from gateway.streaming import (
    DONE,
    KEEPALIVE,
    SSE_HEADERS,
    ChunkWriter,
    estimate_tokens,
    usage_payload,
)
from gateway.upstream import TIMEOUTS, UpstreamError, api_key, retry_after, sse_events

log = logging.getLogger(__name__)

ALPHABET = string.ascii_letters + string.digits
Plan = list[tuple[Model, str | None, list[Endpoint]]]
T = TypeVar("T")


def generation_id() -> str:
    # One urandom call per id (not one per character): ids are unique, not secret.
    return f"gen-{int(time.time())}-" + "".join(ALPHABET[b % 62] for b in os.urandom(20))


@dataclass
class Generation:
    """Everything known about one request, from the first byte in to the usage event."""

    id: str
    caller: Caller
    req: ChatRequest
    attribution: Attribution
    hold: Hold
    started: float = field(default_factory=time.perf_counter)
    created: int = field(default_factory=lambda: int(time.time()))
    attempts: list[dict[str, Any]] = field(default_factory=list)
    model: Model | None = None
    variant: str | None = None
    endpoint: Endpoint | None = None
    first_token_at: float | None = None
    cancelled: bool = False
    # True only while a stream is being relayed: a disconnect then cancels the relay.
    cancellable: bool = False
    # Which API surface the client called: completions, messages, responses, embeddings.
    api_type: str = "completions"
    # What the one settle will charge: set once the generation's usage is known.
    charge_nanos: int = 0
    # BYOK: the provider's list price of this generation, counted toward the free allowance.
    byok_listed_nanos: int = 0
    usage_event: bytes | None = None
    settled: bool = False
    # What the client received, kept only for an account with prompt logging on.
    transcript: Transcript | None = None
    # The first 402 met while looking for an endpoint the caller can afford.
    refusal: GatewayError | None = None
    # Prompt tokens the serving endpoint read from its cache (cache-aware stickiness).
    cached_tokens: int = 0
    # The request's plugins (gateway/plugins), None when it uses none.
    pipeline: Pipeline | None = None

    @property
    def body(self) -> dict[str, Any]:
        """The body for the current attempt: as the plugins rewrote it, else the client's."""
        return self.req.body if self.pipeline is None else self.pipeline.ctx.body

    @property
    def model_name(self) -> str:
        assert self.model is not None
        return self.model.id + (f":{self.variant}" if self.variant else "")

    def charge(self, nanos: int, event: bytes) -> None:
        """Record what the settle step will charge; the last word wins."""
        self.charge_nanos, self.usage_event = nanos, event

    def record(self, endpoint: Endpoint, status: int, began: float) -> None:
        self.attempts.append({
            "provider": endpoint.provider, "provider_name": endpoint.provider_name,
            "endpoint_id": endpoint.id, "status": status,
            "latency_ms": round((time.perf_counter() - began) * 1000),
        })


def max_tokens_for(req: ChatRequest, endpoint: Endpoint) -> int:
    """The completion budget: what the client asked for, else what the endpoint allows."""
    if req.max_tokens:
        return req.max_tokens
    if endpoint.max_completion_tokens:
        return int(endpoint.max_completion_tokens)
    if endpoint.context_length:
        room = endpoint.context_length - req.prompt_tokens
        # No room: the endpoint serves this prompt compressed, keeping room for the answer.
        return room if room > 0 else compression.completion_reserve(endpoint, None)
    return 4096


def upstream_failure(status: int, message: str, provider_name: str, retry: int | None
                     ) -> UpstreamError:
    return UpstreamError(status, f"{provider_name}: {message}", retry)


def final_error(last: UpstreamError | None, gen: Generation) -> GatewayError:
    """All endpoints failed before the first byte: the last failure decides the status."""
    previous = [{"provider": a["provider"], "code": a["status"], "status": a["status"]}
                for a in gen.attempts]
    if last is None:
        return GatewayError(503, "No provider could take this request.",
                            {"error_type": "provider_overloaded", "previous_errors": previous})
    meta = {"raw": last.message, "provider_name": gen.attempts[-1]["provider_name"]
            if gen.attempts else None, "previous_errors": previous}
    if last.status == 429:
        return GatewayError(429, "Provider rate limited the request; retry shortly.",
                            {"error_type": "rate_limit_exceeded", **meta},
                            retry_after=last.retry_after or 1)
    if last.status in (503, 529):
        return GatewayError(503, "Provider is overloaded; retry shortly.",
                            {"error_type": "provider_overloaded", **meta},
                            retry_after=last.retry_after or 1)
    if not last.retryable:
        return GatewayError(400, "Provider returned error",
                            {"error_type": "invalid_request", "provider_code": last.status,
                             **meta})
    return GatewayError(502, "Provider returned error",
                        {"error_type": "provider_unavailable", **meta})


class Completions:
    def __init__(self, meter: Meter, session: aiohttp.ClientSession, keepalive: float,
                 first_byte_timeout: float) -> None:
        self.meter = meter
        self.session = session
        self.keepalive = keepalive
        self.first_byte_timeout = first_byte_timeout
        self.stats: Stats | None = None  # live endpoint statistics, set by the app
        self.retry_deadline = 120.0  # seconds; set by the app from its settings
        # The free-model limits, set by the app: the app admits direct calls, and a mixture's
        # sub-calls are admitted one by one (gateway/subcalls.py).
        self.free_limits: FreeLimits | None = None

    def start(self, scope: Any, caller: Caller, req: ChatRequest) -> Generation:
        gen_id = generation_id()
        return Generation(
            id=gen_id,
            caller=caller,
            req=req,
            attribution=attribution_from(scope),
            hold=Hold(gen_id, caller.account.user_id, caller.key_hash),
            transcript=Transcript() if caller.account.prompt_logging else None,
        )

    # -- reservation and settlement ------------------------------------------------------

    async def _reserve(self, gen: Generation, endpoint: Endpoint) -> bool:
        """Hold this endpoint's maximum cost; False (skip it) if a fallback can't afford it."""
        budget = reasoning.upstream_max_tokens(gen.body, endpoint.api_format,
                                               max_tokens_for(gen.req, endpoint))
        bound = gen.req.prompt_bound or gen.req.prompt_tokens
        extra_nanos = 0
        if gen.pipeline is not None:
            extra_bytes, extra_nanos = gen.pipeline.bounds()
            bound += extra_bytes
        target = max_cost_nanos(endpoint, bound, budget, gen.req.images,
                                images.held(endpoint)) + extra_nanos
        prices = endpoint.pricing.for_prompt(bound)
        try:
            await self.meter.reserve(
                gen.hold, target, gen.caller.limit, gen.caller.limit_reset,
                max_tokens=budget, completion_price_nanos=float(prices.completion * 10**9),
                include_byok=gen.caller.include_byok,
            )
        except GatewayError as err:
            if err.status != 402:
                raise
            # Too dear for this caller: try the next endpoint; refuse only if none is affordable.
            gen.refusal = gen.refusal or err
            return False
        return True

    async def settle(self, gen: Generation) -> None:
        """The one settle of a generation: release its hold and charge what was recorded with
        `Generation.charge` (nothing if no answer reached the user). Later calls do nothing."""
        if gen.settled:
            return
        gen.settled = True
        # Shielded: a cancelled request (client gone, shutdown) still completes its settle.
        await asyncio.shield(
            self.meter.settle(gen.hold, gen.charge_nanos, gen.id, gen.usage_event,
                              byok_listed_nanos=gen.byok_listed_nanos))

    def attempted(self, gen: Generation, endpoint: Endpoint, status: int, began: float) -> None:
        """Record one attempt's outcome on the generation and in the live statistics."""
        gen.record(endpoint, status, began)
        # A user's own key failing says nothing about the shared endpoint's health.
        if status != 200 and self.stats is not None and endpoint.byok is None:
            self.stats.record(endpoint.id, failure_kind(status),
                              latency_ms=gen.attempts[-1]["latency_ms"])
            self.stats.sightings.note(endpoint.provider, "error", f"http {status}",
                                      endpoint.model_id)

    def event(self, gen: Generation, usage: Usage, charged: Cost, *, streamed: bool,
              finish: str | None, native: str | None, upstream_id: str | None,
              status: int = 200) -> bytes:
        assert gen.endpoint is not None and gen.model is not None
        now = time.perf_counter()
        latency = (now - gen.started) * 1000
        first = gen.first_token_at or now
        generation_ms = (now - first) * 1000
        body = gen.req.body
        tier = body.get("service_tier") if isinstance(body.get("service_tier"), str) else None
        gen.cached_tokens = usage.cached_tokens
        if charged.upstream is not None:
            gen.byok_listed_nanos = int(charged.upstream.scaleb(9))
        if self.stats is not None:
            self.stats.settled(gen.endpoint.id, gen.attempts, latency, usage.completion_tokens,
                               generation_ms if streamed else None, failed=finish == "error",
                               cancelled=gen.cancelled)
            self.stats.sightings.note(gen.endpoint.provider, "finish_reason", native,
                                      gen.endpoint.model_id)
        record = {
            "id": gen.id,
            "user_id": int(gen.caller.account.user_id)
            if gen.caller.account.user_id.isdigit() else gen.caller.account.user_id,
            "key_id": gen.caller.key_id,
            "key_hash": gen.caller.key_hash,
            "model": gen.model_name,
            "endpoint_id": gen.endpoint.id,
            "provider": gen.endpoint.provider,
            "provider_name": gen.endpoint.provider_name,
            "api_type": gen.api_type,
            "streamed": streamed,
            "cancelled": gen.cancelled,
            "status": status,
            "finish_reason": finish,
            "native_finish_reason": native,
            "tokens_prompt": usage.prompt_tokens,
            "tokens_completion": usage.completion_tokens,
            "tokens_reasoning": usage.reasoning_tokens,
            "tokens_cached": usage.cached_tokens,
            "cost": f"{charged.total:.9f}",
            "cost_nanos": charged.nanos,
            # BYOK: the provider's list price, billed to the account by the provider.
            "byok_usage_nanos": gen.byok_listed_nanos if charged.upstream is not None else 0,
            "latency_ms": round(latency),
            "ttft_ms": round((first - gen.started) * 1000),
            "generation_time_ms": round(generation_ms),
            "throughput": round(usage.completion_tokens / (generation_ms / 1000), 1)
            if generation_ms > 0 else None,
            "http_referer": gen.attribution.http_referer,
            "app_title": gen.attribution.app_title,
            "app_categories": gen.attribution.app_categories,
            "external_user": body.get("user") if isinstance(body.get("user"), str) else None,
            "session_id": body.get("session_id")
            if isinstance(body.get("session_id"), str) else None,
            "upstream_id": upstream_id,
            "service_tier": tier,
            "provider_responses": gen.attempts,
            "created_at": time.time(),
        }
        if gen.transcript is not None:
            record["content"] = gen.transcript.pack(gen.req.body, gen.req.legacy)
        if gen.pipeline is not None:
            record.update(gen.pipeline.event_fields())
        return orjson.dumps(record)

    # -- non-streaming -------------------------------------------------------------------

    async def complete(self, gen: Generation, plan: Plan) -> tuple[bytes, str]:
        """Try the endpoints in order; returns the response body once settled."""
        try:
            data = await self._first_that_answers(gen, plan, self._call, timeout=None)
            assert gen.endpoint is not None
            return await self._answer(gen, gen.endpoint, data), gen.endpoint.provider_name
        finally:
            await self.settle(gen)

    async def _first_that_answers(
        self, gen: Generation, plan: Plan,
        attempt: Callable[[Generation, Endpoint], Awaitable[T]], timeout: float | None,
    ) -> T:
        """Fallback, before the first byte only: each model's endpoints in order, then the next
        model, until one answers. Every attempt is recorded on the generation."""
        last: UpstreamError | None = None
        for model, variant, endpoints in plan:
            own = byok.expand(endpoints, gen.caller.byok, model.id, gen.caller.key_hash)
            for endpoint in own:
                wait = timeout
                if last is not None:  # a fallback or a retry: only within the deadline
                    left = self.retry_deadline - (time.perf_counter() - gen.started)
                    if left <= 0:
                        raise final_error(last, gen)
                    wait = left if timeout is None else min(timeout, left)
                if not await self._reserve(gen, endpoint):
                    continue
                began = time.perf_counter()
                try:
                    async with asyncio.timeout(wait):
                        if gen.pipeline is not None:
                            await gen.pipeline.before(model, endpoint)
                        result = await attempt(gen, endpoint)
                except TIMEOUTS:
                    last = UpstreamError(504, f"{endpoint.provider_name}: no first token in "
                                         f"{wait or 0:g}s")
                except UpstreamError as err:
                    last = err
                else:
                    self.attempted(gen, endpoint, 200, began)
                    gen.model, gen.variant, gen.endpoint = model, variant, endpoint
                    return result
                self.attempted(gen, endpoint, last.status, began)
                if endpoint.byok is not None:
                    # The account's own key failed: report a refused key, then move on to
                    # the shared capacity whatever the error was.
                    if byok.rejected(last.status):
                        await byok.report_rejected(
                            self.meter.redis, gen.caller.account.user_id, endpoint.byok)
                    continue
                if not last.retryable:
                    raise final_error(last, gen)
        if last is None and gen.refusal is not None:
            raise gen.refusal  # no endpoint was affordable
        raise final_error(last, gen)

    async def _call(self, gen: Generation, endpoint: Endpoint) -> dict[str, Any]:
        adapter = ADAPTERS[endpoint.api_format]
        out = adapter.build(gen.body, endpoint, stream=False,
                            max_tokens=max_tokens_for(gen.req, endpoint),
                            api_key=api_key(endpoint))
        try:
            async with self.session.post(out.url, data=out.body, headers=out.headers) as resp:
                raw = await resp.read()
                status = resp.status
                retry = retry_after(resp.headers)
        except TIMEOUTS:
            raise UpstreamError(504, f"{endpoint.provider_name}: upstream timed out") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(502, f"{endpoint.provider_name}: {exc.__class__.__name__}"
                                ) from None
        if status != 200:
            raise upstream_failure(status, adapter.error_message(status, raw),
                                   endpoint.provider_name, retry)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise UpstreamError(502, f"{endpoint.provider_name}: invalid JSON answer") from None
        if not isinstance(data, dict):
            raise UpstreamError(502, f"{endpoint.provider_name}: invalid JSON answer")
        return data

    async def _answer(self, gen: Generation, endpoint: Endpoint, data: dict[str, Any]) -> bytes:
        adapter = ADAPTERS[endpoint.api_format]
        result = adapter.parse(data)
        gen.first_token_at = time.perf_counter()
        message = result.message
        if "reasoning" in gen.req.body or "include_reasoning" in gen.req.body:
            reasoning.apply_exclude(gen.req.body, message)
        usage = result.usage
        if usage is None:
            text = (message.get("content") or "") if isinstance(message.get("content"), str) \
                else ""
            usage = Usage(gen.req.prompt_tokens, estimate_tokens(text))
        usage.images_out = images.count(message)
        charged = cost(endpoint, usage, prompt_logging=gen.caller.account.prompt_logging,
                       byok_used_nanos=gen.caller.byok_month_nanos)
        if gen.pipeline is not None:
            gen.pipeline.ctx.finish_reason = result.finish_reason
            gen.pipeline.at_end(message)
            charged = gen.pipeline.priced(charged)
        finish = result.finish_reason
        choice: dict[str, Any]
        if gen.req.legacy:
            choice = {"index": 0, "text": message.get("content") or "", "finish_reason": finish,
                      "native_finish_reason": result.native_finish_reason, "logprobs": None}
        else:
            choice = {"index": 0, "finish_reason": finish,
                      "native_finish_reason": result.native_finish_reason, "logprobs": None,
                      "message": message}
        body = orjson.dumps({
            "id": gen.id,
            "provider": endpoint.provider_name,
            "model": gen.model_name,
            "object": "text_completion" if gen.req.legacy else "chat.completion",
            "created": gen.created,
            "system_fingerprint": None,
            "choices": [choice],
            "usage": usage_payload(usage, charged) if gen.pipeline is None
            else gen.pipeline.usage(usage_payload(usage, charged)),
            **(gen.pipeline.ctx.response_fields if gen.pipeline is not None else {}),
        })
        if gen.transcript is not None:
            gen.transcript.message(message)
        gen.charge(charged.nanos, self.event(
            gen, usage, charged, streamed=False, finish=finish,
            native=result.native_finish_reason, upstream_id=result.upstream_id))
        return body

    # -- streaming -----------------------------------------------------------------------

    async def stream(self, gen: Generation, plan: Plan, send: Any, receive: Any) -> None:
        me = asyncio.current_task()
        assert me is not None
        watcher = asyncio.create_task(self._watch(gen, receive, me))
        writer = ChunkWriter(gen.id, gen.created, gen.req.legacy)
        if gen.pipeline is not None:
            writer.usage_fields = gen.pipeline.ctx.usage_fields
            writer.response_fields = gen.pipeline.ctx.response_fields
        headers_sent = False

        async def start() -> None:
            nonlocal headers_sent
            if not headers_sent:
                headers_sent = True
                await send({"type": "http.response.start", "status": 200,
                            "headers": [*SSE_HEADERS, (b"x-generation-id", gen.id.encode())]})

        async def write(payload: bytes, more: bool = True) -> None:
            await send({"type": "http.response.body", "body": payload, "more_body": more})

        gen.cancellable = True
        opener = asyncio.create_task(self._open_stream(gen, plan))
        try:
            try:
                while True:
                    done, _ = await asyncio.wait({opener}, timeout=self.keepalive)
                    if done:
                        break
                    await start()
                    await write(KEEPALIVE)
                opened = opener.result()
            except GatewayError as err:
                gen.cancellable = False
                await self.settle(gen)  # nothing was generated: releases the hold
                if not headers_sent:
                    await send({"type": "http.response.start", "status": err.status,
                                "headers": [(b"content-type", b"application/json"),
                                            *err.headers()]})
                    await write(err.body(), more=False)
                    return
                await write(writer.error(err.to_dict(), None, None))
                await write(DONE, more=False)
                return
            await start()
            closing = await self._relay(gen, opened, writer, write)
            await self.settle(gen)  # before [DONE]: the generation is on record when it ends
            if not gen.cancelled:
                # The finish and usage chunks with [DONE]: one write to the client, not two.
                await write(closing + DONE, more=False)
        except asyncio.CancelledError:
            if not gen.cancelled:
                raise
            me.uncancel()
            # The client went away before the relay began: nothing was generated for it.
            if not opener.done():
                opener.cancel()
                await asyncio.gather(opener, return_exceptions=True)
            elif opener.exception() is None:
                opener.result().resp.close()
        finally:
            gen.cancellable = False
            watcher.cancel()
            await self.settle(gen)

    async def _watch(self, gen: Generation, receive: Any, task: asyncio.Task[Any]) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if gen.cancellable:
                    gen.cancelled = True
                    task.cancel()
                return

    async def _open_stream(self, gen: Generation, plan: Plan) -> "Opened":
        return await self._first_that_answers(gen, plan, self._open_one,
                                              timeout=self.first_byte_timeout)

    async def _open_one(self, gen: Generation, endpoint: Endpoint) -> "Opened":
        adapter = ADAPTERS[endpoint.api_format]
        out = adapter.build(gen.body, endpoint, stream=True,
                            max_tokens=max_tokens_for(gen.req, endpoint),
                            api_key=api_key(endpoint))
        try:
            resp = await self.session.post(out.url, data=out.body, headers=out.headers)
        except aiohttp.ClientError as exc:
            raise UpstreamError(502, f"{endpoint.provider_name}: {exc.__class__.__name__}"
                                ) from None
        opened = Opened(resp, endpoint, adapter.decoder(gen.body))
        try:
            if resp.status != 200:
                raw = await resp.read()
                raise upstream_failure(resp.status, adapter.error_message(resp.status, raw),
                                       endpoint.provider_name, retry_after(resp.headers))
            # Read up to the first token: until then a failure may still fall back.
            opened.first = await opened.next_deltas()
            if opened.decoder.state.error and not opened.first:
                raise UpstreamError(502, f"{endpoint.provider_name}: "
                                    f"{opened.decoder.state.error}")
        except (aiohttp.ClientError, UpstreamError, ValueError) as exc:
            resp.close()
            if isinstance(exc, UpstreamError):
                raise
            raise UpstreamError(502, f"{endpoint.provider_name}: {exc.__class__.__name__}"
                                ) from None
        except Exception:
            resp.close()
            # A decoder that breaks on this answer: nothing reached the user, try the next.
            log.exception("decoding %s's stream failed before its first token",
                          endpoint.provider_name)
            raise UpstreamError(502, f"{endpoint.provider_name}: undecodable answer") from None
        except BaseException:
            resp.close()
            raise
        return opened

    async def _relay(self, gen: Generation, opened: "Opened", writer: ChunkWriter,
                     write: Any) -> bytes:
        """Relay the stream's deltas; returns its closing chunks (finish and usage, or the
        error), for the caller to send once the generation is settled."""
        endpoint = opened.endpoint
        writer.serve(endpoint.provider_name, gen.model_name)
        state = opened.decoder.state
        pipeline = gen.pipeline
        failure: str | None = None
        try:
            deltas = opened.first
            gen.first_token_at = time.perf_counter()
            while True:
                for delta in deltas:
                    opened.observe(delta)
                    if pipeline is not None:
                        out = pipeline.on_delta(delta)
                        if out is None:
                            continue
                        delta = out
                    if gen.transcript is not None:
                        gen.transcript.delta(delta)
                    await write(writer.delta(delta))
                if opened.ended or state.error:
                    break
                deltas = await opened.next_deltas()
        except asyncio.CancelledError:
            if not gen.cancelled:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            if not endpoint.can_abort:
                # The provider bills the whole answer anyway: let it finish, unseen.
                await opened.drain()
            opened.resp.close()
            usage, charged = self._final_usage(gen, opened)
            gen.charge(charged.nanos, self.event(
                gen, usage, charged, streamed=True, finish=state.finish_reason,
                native=state.native_finish_reason, upstream_id=state.upstream_id))
            return b""
        except (aiohttp.ClientError, ValueError, *TIMEOUTS) as exc:
            failure = f"Provider disconnected unexpectedly ({exc.__class__.__name__})"
        except Exception:
            # A bug in a decoder or an adapter mid-stream: what was streamed is still charged.
            log.exception("relaying %s's stream failed", endpoint.provider_name)
            failure = "Internal error while relaying the provider's stream"
        finally:
            opened.resp.release()
        if state.error:
            failure = state.error
        gen.cancellable = False
        usage, charged = self._final_usage(gen, opened)
        if failure is not None:
            error = {"code": 502, "message": failure,
                     "metadata": {"error_type": "provider_unavailable",
                                  "provider_name": endpoint.provider_name}}
            if gen.transcript is not None:
                gen.transcript.failed(failure)
            gen.charge(charged.nanos, self.event(
                gen, usage, charged, streamed=True, finish="error",
                native=state.native_finish_reason or "error", upstream_id=state.upstream_id))
            return writer.error(error, usage, charged)
        else:
            last = None
            if pipeline is not None:
                # Before the usage event: what the plugins report at the end belongs in it.
                pipeline.ctx.finish_reason = state.finish_reason
                last = pipeline.at_stream_end()
            gen.charge(charged.nanos, self.event(
                gen, usage, charged, streamed=True, finish=state.finish_reason,
                native=state.native_finish_reason, upstream_id=state.upstream_id))
            if last is not None:
                await write(writer.delta(last))
            return (writer.finish(state.finish_reason, state.native_finish_reason)
                    + writer.usage(usage, charged))

    def _final_usage(self, gen: Generation, opened: "Opened") -> tuple[Usage, Cost]:
        """Usage as reported by the upstream, or estimated from what was streamed."""
        assert gen.endpoint is not None
        state = opened.decoder.state
        usage = state.usage
        produced = estimate_tokens("".join(opened.text))
        if usage is None or (usage.completion_tokens == 0 and produced):
            prompt = state.prompt_tokens or (usage.prompt_tokens if usage else 0)
            usage = Usage(prompt or gen.req.prompt_tokens, produced)
        usage.images_out = opened.images_out
        charged = cost(
            gen.endpoint, usage, prompt_logging=gen.caller.account.prompt_logging,
            byok_used_nanos=gen.caller.byok_month_nanos,
        )
        return usage, charged if gen.pipeline is None else gen.pipeline.priced(charged)


class Opened:
    """An upstream stream that has produced its first token (or ended)."""

    def __init__(self, resp: aiohttp.ClientResponse, endpoint: Endpoint,
                 decoder: StreamDecoder) -> None:
        self.resp = resp
        self.endpoint = endpoint
        self.decoder = decoder
        self.events = sse_events(resp.content)
        self.first: list[dict[str, Any]] = []
        self.ended = False
        self.text: list[str] = []
        self.images_out = 0  # images drawn, charged per image

    async def next_deltas(self) -> list[dict[str, Any]]:
        """Deltas of the next events that carry any (empty list = the stream ended)."""
        state: DecoderState = self.decoder.state
        async for name, data in self.events:
            deltas = self.decoder.feed(name, data)
            if state.done:
                self.ended = True
                return deltas
            if deltas or state.error:
                return deltas
        self.ended = True
        return []

    def observe(self, delta: dict[str, Any]) -> None:
        """Keep the streamed text, to estimate tokens if the upstream never reports usage."""
        content = delta.get("content") or delta.get("reasoning")
        if isinstance(content, str):
            self.text.append(content)
        for call in delta.get("tool_calls") or ():
            args = (call.get("function") or {}).get("arguments")
            if isinstance(args, str):
                self.text.append(args)
        if "images" in delta:
            self.images_out += images.count(delta)

    async def drain(self) -> None:
        try:
            async for name, data in sse_events(self.resp.content):
                try:
                    self.decoder.feed(name, data)
                except ValueError:
                    continue
        except (aiohttp.ClientError, *TIMEOUTS):
            pass


__all__ = ["Completions", "Generation"]
