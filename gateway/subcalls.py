"""Sub-calls of a multi-model request (gateway/moa.py): each one is a real routed completion
through the gateway's own Completions machinery (its fallbacks, its retries, its settle step,
its usage event), linked to the parent generation by `parent_id` in its usage event.

The parent holds the maximum cost of every sub-call before the first one starts, so a sub-call
reserves nothing of its own; each sub-call is charged its real cost when it settles. The
free-model limits apply to each sub-call as to a direct call: a free one counts, and over the
limits it falls through to the paid models of its plan or fails (and its proposer drops out).
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.catalog import Endpoint
from gateway.completions import Completions, Generation, Plan, T

DeltaHandler = Callable[[dict[str, Any]], Awaitable[None]]


class SubCalls(Completions):
    """The Completions of one parent generation's sub-calls."""

    def __init__(self, base: Completions, parent_id: str) -> None:
        # Same session, meter and statistics as the gateway's own Completions.
        self.__dict__.update(vars(base))
        self.parent_id = parent_id
        self.events: dict[str, dict[str, Any]] = {}

    async def _reserve(self, gen: Generation, endpoint: Endpoint) -> bool:
        return True  # the parent's hold covers every sub-call's maximum

    async def _first_that_answers(
        self, gen: Generation, plan: Plan,
        attempt: Callable[[Generation, Endpoint], Awaitable[T]], timeout: float | None,
    ) -> T:
        if self.free_limits is not None:
            plan = await self.free_limits.admit(gen.caller.account.user_id, gen.id, plan)
        return await super()._first_that_answers(gen, plan, attempt, timeout)

    def event(self, gen: Generation, *args: Any, **kwargs: Any) -> bytes:
        data = orjson.loads(super().event(gen, *args, **kwargs))
        data["parent_id"] = self.parent_id
        self.events[gen.id] = data
        return orjson.dumps(data)


@dataclass
class Outcome:
    """What one sub-call produced, read back from its SSE stream or its JSON body."""

    model: str
    generation_id: str
    text: str = ""
    message: dict[str, Any] | None = None
    finish: str | None = None
    native_finish: str | None = None
    provider: str | None = None
    error: dict[str, Any] | None = None
    status: int = 200
    deltas: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200


class Capture:
    """An ASGI `send` that reads a sub-call's SSE stream instead of writing it to a socket."""

    def __init__(self, outcome: Outcome, on_delta: DeltaHandler | None) -> None:
        self.outcome = outcome
        self.on_delta = on_delta
        self.buffer = b""
        self.error_body = b""
        self.parts: list[str] = []

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.outcome.status = int(message["status"])
            return
        chunk = message.get("body", b"")
        if self.outcome.status != 200:
            self.error_body += chunk
            if not message.get("more_body"):
                self._error_from_body()
            return
        self.buffer += chunk
        while b"\n\n" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\n\n", 1)
            if raw.startswith(b"data: ") and raw != b"data: [DONE]":
                await self._event(orjson.loads(raw[6:]))
        self.outcome.text = "".join(self.parts)

    def _error_from_body(self) -> None:
        try:
            self.outcome.error = orjson.loads(self.error_body).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            self.outcome.error = {"code": self.outcome.status, "message": "Provider error"}

    async def _event(self, payload: dict[str, Any]) -> None:
        if payload.get("error"):
            self.outcome.error = payload["error"]
        self.outcome.provider = payload.get("provider") or self.outcome.provider
        for choice in payload.get("choices") or ():
            if choice.get("finish_reason"):
                self.outcome.finish = choice["finish_reason"]
                self.outcome.native_finish = choice.get("native_finish_reason")
            delta = choice.get("delta") or {}
            if choice.get("finish_reason") and not delta.get("tool_calls"):
                continue
            if isinstance(delta.get("content"), str):
                self.parts.append(delta["content"])
            if self.on_delta is not None and (delta.get("content") or delta.get("tool_calls")
                                              or delta.get("reasoning")):
                await self.on_delta(delta)


def disconnects_with(gone: asyncio.Event) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A sub-call's ASGI `receive`: a disconnect once the parent's client has gone."""

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    return receive
