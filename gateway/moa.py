"""Mixture-of-agents execution: proposers in parallel, layer after layer, an optional critique
(or fusion's analysis), then the aggregator's answer.

Every model call is a sub-call (gateway/subcalls.py): routed with its own fallbacks, settled
and metered as its own generation linked to the parent. The parent holds, before the first
sub-call, the maximum cost of all of them, and settles at the end with no charge of its own and
a usage event whose `provider_responses` list the sub-generations (model, provider, tokens,
cost, latency). The response's `usage` is the total of the sub-calls.

Streamed, the proposers' (and the critique's) tokens go out as `reasoning` deltas as they come,
so the first token leaves as soon as the fastest proposer speaks; then the aggregator's answer
as `content`. A proposer that fails drops out and the metadata says so; if all fail, the
request fails in the usual error shape.
"""

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from gateway import reasoning
from gateway import request as request_mod
from gateway.auth import Caller
from gateway.completions import Completions, Generation, Plan, max_tokens_for
from gateway.errors import GatewayError
from gateway.http import send_bytes
from gateway.mixtures import (
    Mixture,
    aggregate_prompt,
    parse_analysis,
    review_prompt,
    with_answers,
)
from gateway.pricing import max_cost_nanos
from gateway.request import ChatRequest
from gateway.streaming import DONE, KEEPALIVE, SSE_HEADERS, ChunkWriter, event
from gateway.subcalls import Capture, Outcome, SubCalls, disconnects_with

Planner = Callable[[ChatRequest], Plan]
PROPOSER_TOKENS = 1024  # a proposer's budget when the client sets none
REVIEW_TOKENS = 1024
PROMPT_OVERHEAD = 400  # tokens of the aggregation prompt itself, for the hold
# Fields a proposer does not get: tools and structured output are the aggregator's business.
AGGREGATOR_ONLY = ("model", "models", "moa", "plugins", "tools", "tool_choice",
                   "response_format", "stream", "stream_options", "preset",
                   "parallel_tool_calls", "max_tokens", "max_completion_tokens")


def sub_request(body: dict[str, Any], model: str, messages: list[Any], *, stream: bool,
                max_tokens: int | None, keep_tools: bool = False,
                fallbacks: tuple[str, ...] = ()) -> ChatRequest:
    drop = ("model", "models", "moa", "plugins", "preset") if keep_tools else AGGREGATOR_ONLY
    sub = {k: v for k, v in body.items() if k not in drop}
    sub.update(model=model, messages=messages, stream=stream)
    if fallbacks:
        sub["models"] = list(fallbacks)
    if max_tokens is not None:
        sub["max_tokens"] = max_tokens
        sub.pop("max_completion_tokens", None)
    return request_mod.parse(orjson.dumps(sub))


def _bound(plan: Plan, req: ChatRequest, prompt_tokens: int, budget: int | None) -> int:
    """The most a sub-call on this plan can cost, whichever endpoint serves it (with the
    completion limit the provider is actually given: thinking may raise it)."""
    return max((max_cost_nanos(e, prompt_tokens, reasoning.upstream_max_tokens(
                    req.body, e.api_format, budget or max_tokens_for(req, e)), req.images)
                for _, _, endpoints in plan for e in endpoints), default=0)


class Output:
    """The parent's SSE stream: headers on first write, one writer at a time."""

    def __init__(self, send: Any, generation_id: str) -> None:
        self.send = send
        self.generation_id = generation_id
        self.lock = asyncio.Lock()
        self.started = False
        self.last = time.monotonic()

    async def write(self, payload: bytes, more: bool = True) -> None:
        async with self.lock:
            if not self.started:
                self.started = True
                await self.send({"type": "http.response.start", "status": 200, "headers": [
                    *SSE_HEADERS, (b"x-generation-id", self.generation_id.encode())]})
            self.last = time.monotonic()
            await self.send({"type": "http.response.body", "body": payload, "more_body": more})

    async def keepalive(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if time.monotonic() - self.last >= interval:
                await self.write(KEEPALIVE)


class MixtureRun:
    """One request's mixture: its sub-calls, its progress stream, its bookkeeping."""

    def __init__(self, completions: Completions, scope: Any, caller: Caller, req: ChatRequest,
                 mixture: Mixture, planner: Planner, keepalive: float) -> None:
        self.completions = completions
        self.scope, self.caller, self.req, self.mixture = scope, caller, req, mixture
        self.planner = planner
        self.keepalive = keepalive
        self.parent: Generation = completions.start(scope, caller, req)
        self.calls = SubCalls(completions, self.parent.id)
        self.gone = asyncio.Event()
        self.members: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []
        self.writer = ChunkWriter(self.parent.id, self.parent.created, False)
        self.writer.serve("Mixture", mixture.id)
        self.output: Output | None = None
        self.label: str | None = None
        self.analysis: dict[str, Any] | None = None
        messages = req.body.get("messages")
        self.messages: list[Any] = messages if isinstance(messages, list) else []
        self.budget = req.max_tokens or PROPOSER_TOKENS

    # -- planning and the parent's hold ----------------------------------------------------

    def plan(self) -> None:
        """Route every sub-call before any runs (an unknown model is a 400 now, not later),
        and hold the maximum cost of all of them."""
        mix, req = self.mixture, self.req
        self.proposer_plans = {m: self.planner(self._proposer(m, self.messages))
                               for m in dict.fromkeys(mix.proposers)}
        fallbacks = tuple(m for m in dict.fromkeys(mix.proposers) if m != mix.aggregator)
        self.final_req = sub_request(req.body, mix.aggregator, self.messages,
                                     stream=req.stream, max_tokens=req.max_tokens,
                                     keep_tools=True, fallbacks=fallbacks)
        self.final_plan = self.planner(self.final_req)
        self.review_plan = self.planner(self._review(self.messages)) if mix.reviewed else []
        later = req.prompt_tokens + len(mix.proposers) * self.budget + PROMPT_OVERHEAD
        total = sum(_bound(self.proposer_plans[m], req, req.prompt_tokens, self.budget)
                    for m in mix.proposers)
        total += (mix.layers - 1) * sum(_bound(self.proposer_plans[m], req, later, self.budget)
                                        for m in mix.proposers)
        if mix.reviewed:
            total += _bound(self.review_plan, req, later, REVIEW_TOKENS)
            later += REVIEW_TOKENS
        total += _bound(self.final_plan, self.final_req, later, None)
        self.hold_target = total

    async def reserve(self) -> None:
        await self.completions.meter.reserve(
            self.parent.hold, self.hold_target, self.caller.limit, self.caller.limit_reset,
            max_tokens=self.budget, completion_price_nanos=0.0,
            include_byok=self.caller.include_byok)

    def _proposer(self, model: str, messages: list[Any]) -> ChatRequest:
        return sub_request(self.req.body, model, messages, stream=self.req.stream,
                           max_tokens=self.budget)

    def _review(self, messages: list[Any]) -> ChatRequest:
        body = dict(self.req.body)
        if self.mixture.fusion:
            body["temperature"] = 0
        sub = sub_request(body, self.mixture.aggregator, messages, stream=self.req.stream,
                          max_tokens=REVIEW_TOKENS, keep_tools=False)
        if self.mixture.fusion:  # structured output is the analyst's own, not the client's
            sub.body["response_format"] = {"type": "json_object"}
        return sub

    # -- one sub-call ----------------------------------------------------------------------

    async def call(self, sub: ChatRequest, plan: Plan, role: str, layer: int,
                   forward: Callable[[dict[str, Any]], Any] | None) -> Outcome:
        gen = self.calls.start(self.scope, self.caller, sub)
        outcome = Outcome(str(sub.body["model"]), gen.id)
        if sub.stream:
            capture = Capture(outcome, forward)
            await self.calls.stream(gen, plan, capture, disconnects_with(self.gone))
        else:
            try:
                body, _ = await self.calls.complete(gen, plan)
            except GatewayError as err:
                outcome.error, outcome.status = err.to_dict(), err.status
            else:
                data = orjson.loads(body)
                choice = data["choices"][0]
                outcome.message = choice.get("message") or {}
                content = outcome.message.get("content")
                outcome.text = content if isinstance(content, str) else ""
                outcome.finish = choice.get("finish_reason")
                outcome.native_finish = choice.get("native_finish_reason")
                outcome.provider = data.get("provider")
        self.members.append({"role": role, "layer": layer, "generation_id": gen.id,
                             "requested_model": outcome.model})
        if not outcome.ok or (role == "proposer" and not outcome.text.strip()):
            self.failed.append({"model": outcome.model, "role": role, "layer": layer,
                                "generation_id": gen.id,
                                "error": (outcome.error or {}).get("message") or "empty answer"})
        return outcome

    def progress(self, label: str) -> Callable[[dict[str, Any]], Any]:
        async def forward(delta: dict[str, Any]) -> None:
            text = delta.get("content") or delta.get("reasoning")
            if not isinstance(text, str) or not text or self.output is None:
                return
            self.parent.first_token_at = self.parent.first_token_at or time.perf_counter()
            if self.label != label:
                text = ("\n\n" if self.label else "") + f"[{label}] " + text
                self.label = label
            await self.output.write(self.writer.delta({"reasoning": text}))
        return forward

    async def answer(self, delta: dict[str, Any]) -> None:
        if self.output is not None:
            self.parent.first_token_at = self.parent.first_token_at or time.perf_counter()
            delta = {k: v for k, v in delta.items() if k != "reasoning"}
            await self.output.write(self.writer.delta(delta))

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> Outcome:
        mix = self.mixture
        proposers = list(mix.proposers)
        answers: list[tuple[str, str]] = []
        for layer in range(1, mix.layers + 1):
            messages = self.messages if layer == 1 else with_answers(
                self.messages, aggregate_prompt(mix), answers)
            many = len(mix.proposers) > len(set(mix.proposers))
            outcomes = await asyncio.gather(*(
                self.call(self._proposer(model, messages), self.proposer_plans[model],
                          "proposer", layer, self.progress(self._label(model, i, layer, many)))
                for i, model in enumerate(proposers, 1)))
            kept = [(o, p) for o, p in zip(outcomes, proposers, strict=True)
                    if o.ok and o.text.strip()]
            if not kept or self.gone.is_set():
                raise self._all_failed()
            proposers = [p for _, p in kept]
            answers = [(o.model, o.text) for o, _ in kept]
        review = None
        if mix.reviewed:
            name = "analysis" if mix.fusion else "critique"
            outcome = await self.call(
                self._review(with_answers(self.messages, review_prompt(mix), answers)),
                self.review_plan, name, mix.layers, self.progress(name))
            if outcome.ok and outcome.text.strip():
                review = outcome.text
                if mix.fusion:
                    self.analysis = parse_analysis(outcome.text)
        final = self.final_req
        final.body["messages"] = with_answers(self.messages, aggregate_prompt(mix), answers,
                                              review)
        final.prompt_tokens = request_mod.parse(orjson.dumps(final.body)).prompt_tokens
        if self.label is not None and self.output is not None:
            await self.output.write(self.writer.delta({"reasoning": "\n\n"}))
        outcome = await self.call(final, self.final_plan, "aggregator", mix.layers + 1,
                                  self.answer)
        if not outcome.ok:
            error = outcome.error or {}
            raise GatewayError(int(error.get("code") or 502),
                               str(error.get("message") or "The aggregator failed"),
                               {"error_type": "provider_unavailable", **self.metadata()})
        if self.parent.transcript is not None:  # the answer the client got, for its log
            self.parent.transcript.message(outcome.message or {"content": outcome.text})
        return outcome

    def _label(self, model: str, index: int, layer: int, numbered: bool) -> str:
        name = f"{model} #{index}" if numbered else model
        return f"layer {layer} · {name}" if self.mixture.layers > 1 else name

    def _all_failed(self) -> GatewayError:
        return GatewayError(502, "Every proposer of the mixture failed.",
                            {"error_type": "provider_unavailable",
                             "failure_reason": "all_panels_failed", **self.metadata()})

    # -- totals, metadata, the parent's record ---------------------------------------------

    def breakdown(self) -> list[dict[str, Any]]:
        rows = []
        for member in self.members:
            event_ = self.calls.events.get(member["generation_id"]) or {}
            rows.append({
                "id": member["generation_id"], "role": member["role"], "layer": member["layer"],
                "model": event_.get("model") or member["requested_model"],
                "provider": event_.get("provider"), "provider_name": event_.get("provider_name"),
                "endpoint_id": event_.get("endpoint_id"), "status": event_.get("status", 502),
                "latency_ms": event_.get("latency_ms"),
                "tokens_prompt": event_.get("tokens_prompt", 0),
                "tokens_completion": event_.get("tokens_completion", 0),
                "cost": event_.get("cost", "0.000000000"),
                "cost_nanos": event_.get("cost_nanos", 0),
            })
        return rows

    def usage(self) -> dict[str, Any]:
        rows = list(self.calls.events.values())
        prompt = sum(int(r.get("tokens_prompt") or 0) for r in rows)
        completion = sum(int(r.get("tokens_completion") or 0) for r in rows)
        nanos = sum(int(r.get("cost_nanos") or 0) for r in rows)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "completion_tokens_details": {
                    "reasoning_tokens": sum(int(r.get("tokens_reasoning") or 0) for r in rows)},
                "cost": float(Decimal(nanos).scaleb(-9)), "is_byok": False,
                "cost_details": {"upstream_inference_cost": None}}

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"mixture": self.mixture.id, "layers": self.mixture.layers,
                                "sub_generations": self.breakdown(),
                                "failed_models": self.failed}
        if self.mixture.fusion:
            meta["analysis"] = self.analysis
        return meta

    async def settle(self, status: int, finish: str | None) -> None:
        """Release the parent's hold and record it: no charge, the sub-calls carry the cost."""
        now = time.perf_counter()
        first = self.parent.first_token_at or now
        body = self.req.body
        record = {
            "id": self.parent.id, "user_id": int(self.caller.account.user_id)
            if self.caller.account.user_id.isdigit() else self.caller.account.user_id,
            "key_id": self.caller.key_id, "key_hash": self.caller.key_hash,
            "model": self.mixture.id, "endpoint_id": None, "provider": "", "provider_name": "",
            "api_type": "completions", "streamed": self.req.stream,
            "cancelled": self.gone.is_set(), "status": status, "finish_reason": finish,
            "native_finish_reason": finish, "tokens_prompt": 0, "tokens_completion": 0,
            "tokens_reasoning": 0, "tokens_cached": 0, "cost": "0.000000000", "cost_nanos": 0,
            "latency_ms": round((now - self.parent.started) * 1000),
            "ttft_ms": round((first - self.parent.started) * 1000),
            "generation_time_ms": round((now - first) * 1000), "throughput": None,
            "http_referer": self.parent.attribution.http_referer,
            "app_title": self.parent.attribution.app_title,
            "app_categories": self.parent.attribution.app_categories,
            "external_user": body.get("user") if isinstance(body.get("user"), str) else None,
            "session_id": body.get("session_id")
            if isinstance(body.get("session_id"), str) else None,
            "upstream_id": None, "service_tier": None, "router": self.mixture.id,
            "virtual": True,  # its sub-generations carry the usage: rankings skip this row
            "provider_responses": self.breakdown(), "created_at": time.time(),
        }
        if self.parent.transcript is not None:
            record["content"] = self.parent.transcript.pack(body, legacy=False)
        await self.completions.meter.settle(self.parent.hold, 0, self.parent.id,
                                            orjson.dumps(record))


class Mixtures:
    def __init__(self, completions: Completions, keepalive: float) -> None:
        self.completions = completions
        self.keepalive = keepalive

    async def serve(self, scope: Any, caller: Caller, req: ChatRequest, mixture: Mixture,
                    planner: Planner, send: Any, receive: Any) -> None:
        run = MixtureRun(self.completions, scope, caller, req, mixture, planner, self.keepalive)
        run.plan()
        await run.reserve()
        status: int = 502
        finish: str | None = "error"
        try:
            if req.stream:
                status, finish = await self._stream(run, send, receive)
            else:
                status, finish = await self._complete(run, send)
        except GatewayError as err:
            status = err.status
            raise
        finally:
            await run.settle(status, finish)

    async def _complete(self, run: MixtureRun, send: Any) -> tuple[int, str | None]:
        outcome = await run.run()
        body = {"id": run.parent.id, "provider": outcome.provider, "model": run.mixture.id,
                "object": "chat.completion", "created": run.parent.created,
                "system_fingerprint": None,
                "choices": [{"index": 0, "finish_reason": outcome.finish,
                             "native_finish_reason": outcome.native_finish, "logprobs": None,
                             "message": outcome.message}],
                "usage": run.usage(), "moa": run.metadata()}
        await send_bytes(send, 200, orjson.dumps(body),
                         [(b"x-generation-id", run.parent.id.encode())])
        return 200, outcome.finish

    async def _stream(self, run: MixtureRun, send: Any, receive: Any) -> tuple[int, str | None]:
        output = run.output = Output(send, run.parent.id)
        keepalive = asyncio.create_task(output.keepalive(self.keepalive))
        watcher = asyncio.create_task(self._watch(run, receive))
        try:
            try:
                outcome = await run.run()
            except GatewayError as err:
                if not output.started:
                    raise
                await output.write(run.writer.error(err.to_dict(), None, None))
                await output.write(DONE, more=False)
                return err.status, "error"
            if run.parent.first_token_at is None:
                run.parent.first_token_at = time.perf_counter()
            run.writer.serve(outcome.provider or "Mixture", run.mixture.id)
            await output.write(run.writer.finish(outcome.finish, outcome.native_finish)
                               + event({**run.writer.base, "choices": [],
                                        "usage": run.usage(), "moa": run.metadata()}))
            await output.write(DONE, more=False)
            return 200, outcome.finish
        finally:
            keepalive.cancel()
            watcher.cancel()

    async def _watch(self, run: MixtureRun, receive: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                run.gone.set()
                return
