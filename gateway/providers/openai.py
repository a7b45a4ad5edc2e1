"""OpenAI Chat Completions (and every OpenAI-compatible host): `POST {base}/chat/completions`."""

import hashlib
from typing import Any

import orjson

from gateway import reasoning
from gateway.catalog import Endpoint
from gateway.pricing import Usage
from gateway.providers.base import JSON, DecoderState, Outbound, Result, error_message

# Parameters OpenAI itself accepts; everything else is only sent where the endpoint lists it.
OPENAI_PARAMS = frozenset(
    [
        "temperature",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
        "seed",
        "stop",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_tokens",
        "max_completion_tokens",
        "reasoning_effort",
        "service_tier",
        "prediction",
        "modalities",
        "verbosity",
        "web_search_options",
    ]
)
OPEN_HOST_PARAMS = frozenset(["top_k", "min_p", "top_a", "repetition_penalty", "reasoning"])
# Hosts that take only OpenAI's own `reasoning_effort`, never the `reasoning` object.
EFFORT_ONLY = frozenset(["openai", "azure"])
REASONING_PARAMS = ("reasoning", "reasoning_effort", "include_reasoning")

FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",
    "eos": "stop",
    "end_turn": "stop",
    "error": "error",
}


def normalise_finish(native: str | None) -> str | None:
    if native is None:
        return None
    return FINISH.get(native, "stop")


def usage_from(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        cache_write_tokens=int(prompt_details.get("cache_write_tokens") or 0),
    )


def _map_reasoning(body: JSON, endpoint: Endpoint, out: JSON, max_tokens: int) -> None:
    """Open hosts take the `reasoning` object as is; OpenAI and Azure an effort level."""
    supported = endpoint.supported_parameters
    if endpoint.provider not in EFFORT_ONLY and "reasoning" in supported:
        return
    out.pop("reasoning", None)
    if not any(p in supported for p in REASONING_PARAMS):
        return  # not a reasoning model: nothing to map
    wanted = reasoning.requested(body)
    if wanted is False:
        out["reasoning_effort"] = "none"
    elif wanted is not None and "reasoning_effort" not in body:
        out["reasoning_effort"] = wanted.effort_for(max_tokens)


def without_cache_control(messages: list[JSON]) -> list[JSON]:
    """Anthropic-style `cache_control` breakpoints mean nothing to OpenAI-compatible hosts
    (they cache by themselves) and strict ones reject unknown fields: drop them. The common
    case, plain string contents, returns the same list untouched."""
    if not any(isinstance(m.get("content"), list) for m in messages):
        return messages
    out = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, list) and any(
                isinstance(p, dict) and "cache_control" in p for p in content):
            msg = {**msg, "content": [
                {k: v for k, v in p.items() if k != "cache_control"}
                if isinstance(p, dict) else p for p in content]}
        out.append(msg)
    return out


def reasoning_delta(delta: JSON) -> None:
    """Streamed reasoning text also goes out as a reasoning detail, as OpenRouter does."""
    text = delta.get("reasoning")
    if isinstance(text, str) and text and "reasoning_details" not in delta:
        delta["reasoning_details"] = [reasoning.text_detail(text, reasoning.UNKNOWN)]


class OpenAIAdapter:
    def build(
        self, body: JSON, endpoint: Endpoint, *, stream: bool, max_tokens: int, api_key: str | None
    ) -> Outbound:
        out: dict[str, Any] = {"model": endpoint.upstream_model,
                               "messages": without_cache_control(body["messages"])}
        supported = endpoint.supported_parameters
        for name, value in body.items():
            if value is None:
                continue
            if name in OPENAI_PARAMS or (name in OPEN_HOST_PARAMS and name in supported):
                out[name] = value
        if "max_tokens" in out and "max_completion_tokens" in out:
            del out["max_tokens"]
        if "reasoning" in body or "include_reasoning" in body:
            _map_reasoning(body, endpoint, out, max_tokens)
        if out.get("service_tier") == "fast":
            out["service_tier"] = "priority"
        user = body.get("user")
        if isinstance(user, str) and user:
            # End-user ids are hashed before they leave us.
            out["user"] = hashlib.sha256(user.encode()).hexdigest()[:32]
        if stream:
            out["stream"] = True
            out["stream_options"] = {"include_usage": True}
        headers = {"content-type": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        return Outbound(f"{endpoint.base_url}/chat/completions", headers, orjson.dumps(out))

    def parse(self, data: JSON) -> Result:
        choices = data.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        message = dict(choice.get("message") or {"role": "assistant", "content": None})
        message.setdefault("role", "assistant")
        message.setdefault("refusal", None)
        message.setdefault("reasoning", message.pop("reasoning_content", None))
        if message["reasoning"] and not message.get("reasoning_details"):
            message["reasoning_details"] = [
                reasoning.text_detail(message["reasoning"], reasoning.UNKNOWN)
            ]
        native = choice.get("finish_reason")
        return Result(
            message, normalise_finish(native), native, usage_from(data.get("usage")), data.get("id")
        )

    def decoder(self, body: JSON) -> "OpenAIDecoder":
        return OpenAIDecoder(reasoning.excluded(body))

    def error_message(self, status: int, raw: bytes) -> str:
        return error_message(raw)


class OpenAIDecoder:
    def __init__(self, exclude_reasoning: bool = False) -> None:
        self.state = DecoderState()
        self.exclude = exclude_reasoning

    def feed(self, event: str | None, data: bytes) -> list[JSON]:
        if data == b"[DONE]":
            self.state.done = True
            return []
        chunk = orjson.loads(data)
        if not isinstance(chunk, dict):
            return []
        if chunk.get("error"):
            self.state.error = error_message(data)
            return []
        if self.state.upstream_id is None:
            self.state.upstream_id = chunk.get("id")
        usage = usage_from(chunk.get("usage"))
        if usage is not None:
            self.state.usage = usage
        deltas = []
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            if "reasoning_content" in delta:
                delta["reasoning"] = delta.pop("reasoning_content")
            if "reasoning" in delta:
                if self.exclude:
                    del delta["reasoning"]
                else:
                    reasoning_delta(delta)
            if any(v not in (None, "", []) for k, v in delta.items() if k != "role"):
                deltas.append(delta)
            native = choice.get("finish_reason")
            if native:
                self.state.native_finish_reason = native
                self.state.finish_reason = normalise_finish(native)
        return deltas
