"""A generation's input and output, for accounts that have prompt logging on.

Only when the account had prompt logging on at request time does a generation carry a
Transcript; it collects what the client received (text, reasoning, tool calls) and packs it,
with the request's messages or prompt, into the usage event's `content` field: base64 of zlib of
the JSON `{"input": {"messages": [...]} | {"prompt": "..."}, "output": {"completion",
"reasoning", "tool_calls"}, "error": null | {"message": ...}}`. The metering consumer stores the
compressed bytes as they are (usage/content.py); nothing of the content is kept otherwise.

The event is also kept in Redis for a day and travels through the usage stream, so its size is
capped: past `MAX_BYTES` compressed, long strings are clipped (each marked as truncated) until
it fits.
"""

import base64
import os
import zlib
from typing import Any

import orjson

MAX_BYTES = int(os.environ.get("GATEWAY_CONTENT_MAX_BYTES", str(256 * 1024)))
TRUNCATED = "…[truncated]"


def _clip(value: Any, limit: int) -> Any:
    """`value` with every string longer than `limit` characters cut to it."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + TRUNCATED
    if isinstance(value, list):
        return [_clip(item, limit) for item in value]
    if isinstance(value, dict):
        return {key: _clip(item, limit) for key, item in value.items()}
    return value


def _input_of(body: dict[str, Any], legacy: bool) -> dict[str, Any]:
    if legacy:
        prompt = body.get("prompt")
        if isinstance(prompt, list):
            prompt = "".join(p for p in prompt if isinstance(p, str))
        return {"prompt": prompt if isinstance(prompt, str) else ""}
    messages = body.get("messages")
    return {"messages": messages if isinstance(messages, list) else []}


def pack(content: dict[str, Any], max_bytes: int = MAX_BYTES) -> str:
    """The event field: base64 of the zlib-compressed JSON, clipped to fit `max_bytes`."""
    limit = 1 << 20
    while True:
        packed = zlib.compress(orjson.dumps(content), 6)
        if len(packed) <= max_bytes or limit < 64:
            break
        content = _clip(content, limit)
        limit //= 4
    if len(packed) > max_bytes:
        # Even clipped it does not fit (thousands of messages): keep the output only.
        content = {**content, "input": {"messages": []}, "truncated": True}
        packed = zlib.compress(orjson.dumps(content), 6)
    return base64.b64encode(packed).decode()


class Transcript:
    """What one generation returned to its client, gathered as it streams or at its end."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.error: str | None = None

    def message(self, message: dict[str, Any]) -> None:
        """A whole (non-streamed) message."""
        self.text = [message["content"]] if isinstance(message.get("content"), str) else []
        self.reasoning = [message["reasoning"]] \
            if isinstance(message.get("reasoning"), str) else []
        calls = message.get("tool_calls")
        self.tool_calls = dict(enumerate(calls)) if isinstance(calls, list) else {}

    def delta(self, delta: dict[str, Any]) -> None:
        """One streamed delta: text and reasoning appended, tool calls merged by index."""
        if isinstance(delta.get("content"), str):
            self.text.append(delta["content"])
        if isinstance(delta.get("reasoning"), str):
            self.reasoning.append(delta["reasoning"])
        for call in delta.get("tool_calls") or ():
            if not isinstance(call, dict):
                continue
            index = call["index"] if isinstance(call.get("index"), int) else 0
            merged = self.tool_calls.setdefault(
                index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
            merged["id"] = call.get("id") or merged["id"]
            function = call.get("function") or {}
            for part in ("name", "arguments"):
                if isinstance(function.get(part), str):
                    merged["function"][part] += function[part]

    def failed(self, message: str) -> None:
        self.error = message

    def pack(self, body: dict[str, Any], legacy: bool) -> str:
        output: dict[str, Any] = {
            "completion": "".join(self.text) if self.text or not self.tool_calls else None,
            "reasoning": "".join(self.reasoning) if self.reasoning else None,
        }
        if self.tool_calls:
            output["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        error = None if self.error is None else {"message": self.error}
        return pack({"input": _input_of(body, legacy), "output": output, "error": error})
