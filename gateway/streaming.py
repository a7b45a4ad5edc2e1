"""OpenAI-shaped payloads the gateway writes: SSE framing, chunks, usage with cost."""

import re
from typing import Any

import orjson

from gateway.pricing import Cost, Usage

SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
DONE = b"data: [DONE]\n\n"

# Fallback tokenizer when an upstream never reports usage (a cancelled or broken stream):
# a token is a run of up to 8 word characters or one other symbol, with its leading spaces.
# Close to what BPE tokenizers give for English, and exact for the local simulator.
TOKEN_RE = re.compile(r"\s*(?:\w{1,8}|[^\w\s])")


def estimate_tokens(text: str) -> int:
    return len(TOKEN_RE.findall(text))


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def usage_payload(usage: Usage, cost: Cost) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens,
                                  "cache_write_tokens": usage.cache_write_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "cost": float(cost.total),
        "is_byok": cost.is_byok,
        "cost_details": {
            "upstream_inference_cost": float(cost.upstream) if cost.upstream is not None else None,
            "upstream_inference_prompt_cost": float(cost.prompt),
            "upstream_inference_completions_cost": float(cost.completion),
        },
    }


class ChunkWriter:
    """Builds chunks that share one id, model and creation time."""

    def __init__(self, generation_id: str, created: int, legacy: bool) -> None:
        self.base: dict[str, Any] = {
            "id": generation_id,
            "provider": None,
            "model": None,
            "object": "text_completion" if legacy else "chat.completion.chunk",
            "created": created,
        }
        self.legacy = legacy
        # Extra `usage` fields of the request's plugins (e.g. server_tool_use_details).
        self.usage_fields: dict[str, Any] | None = None
        # Top-level fields of the last (usage) chunk, e.g. the plugins' openrouter_metadata.
        self.response_fields: dict[str, Any] | None = None

    def serve(self, provider_name: str, model: str) -> None:
        self.base["provider"] = provider_name
        self.base["model"] = model

    def _choice(self, delta: dict[str, Any], finish: str | None, native: str | None
                ) -> dict[str, Any]:
        if self.legacy:
            return {"index": 0, "text": delta.get("content") or "", "finish_reason": finish,
                    "native_finish_reason": native, "logprobs": None}
        return {"index": 0, "delta": delta, "finish_reason": finish,
                "native_finish_reason": native, "logprobs": None}

    def delta(self, delta: dict[str, Any]) -> bytes:
        if not self.legacy:
            delta.setdefault("role", "assistant")
        return event({**self.base, "choices": [self._choice(delta, None, None)]})

    def finish(self, finish: str | None, native: str | None) -> bytes:
        delta: dict[str, Any] = {} if self.legacy else {"role": "assistant", "content": ""}
        return event({**self.base, "choices": [self._choice(delta, finish or "stop", native)]})

    def usage(self, usage: Usage, cost: Cost) -> bytes:
        return event({**self.base, "choices": [], "usage": self._usage(usage, cost),
                      **(self.response_fields or {})})

    def _usage(self, usage: Usage, cost: Cost) -> dict[str, Any]:
        payload = usage_payload(usage, cost)
        if self.usage_fields:
            payload.update(self.usage_fields)
        return payload

    def error(self, error: dict[str, Any], usage: Usage | None, cost: Cost | None) -> bytes:
        payload = {**self.base, "error": error,
                   "choices": [self._choice({"content": ""} if not self.legacy else {},
                                            "error", "error")]}
        if usage is not None and cost is not None:
            payload["usage"] = self._usage(usage, cost)
        return event(payload)
