"""What every adapter provides, and the shapes they translate to.

Adapters see the client's request as validated OpenAI-shaped JSON (`ChatRequest.body`) and
turn upstream answers into OpenAI-shaped messages and stream deltas; the gateway adds ids,
usage and cost around them.
"""

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from gateway.catalog import Endpoint
from gateway.pricing import Usage

JSON = dict[str, Any]


@dataclass
class Outbound:
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Result:
    """A complete (non-streamed) answer in OpenAI's shape."""

    message: JSON
    finish_reason: str | None
    native_finish_reason: str | None
    usage: Usage | None
    upstream_id: str | None = None


@dataclass
class DecoderState:
    """What a stream decoder learnt besides the deltas it returned."""

    finish_reason: str | None = None
    native_finish_reason: str | None = None
    usage: Usage | None = None
    upstream_id: str | None = None
    error: str | None = None  # an in-band error event
    done: bool = False
    prompt_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class StreamDecoder(Protocol):
    state: DecoderState

    def feed(self, event: str | None, data: bytes) -> list[JSON]:
        """One SSE event in, zero or more OpenAI `delta` objects out."""
        ...


class Adapter(Protocol):
    def build(self, body: JSON, endpoint: Endpoint, *, stream: bool, max_tokens: int,
              api_key: str | None) -> Outbound: ...

    def parse(self, data: JSON) -> Result: ...

    def decoder(self, body: JSON) -> StreamDecoder: ...

    def error_message(self, status: int, raw: bytes) -> str: ...


def error_message(raw: bytes) -> str:
    """The human message of an upstream error body, whatever its format."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw[:500].decode("utf-8", "replace")
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(data.get("message"), str):
            return str(data["message"])
    return raw[:500].decode("utf-8", "replace")


def text_of(content: Any) -> str:
    """The text of a message content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def parse_data_uri(url: str) -> tuple[str, str] | None:
    """`data:image/png;base64,AAAA` -> ("image/png", "AAAA")."""
    if not url.startswith("data:") or "," not in url:
        return None
    header, data = url[5:].split(",", 1)
    parts = header.split(";")
    if "base64" not in parts[1:]:
        # Percent-encoded data URIs are rare for images; re-encode them as base64.
        try:
            return parts[0] or "application/octet-stream", base64.b64encode(data.encode()).decode()
        except (binascii.Error, ValueError):
            return None
    return parts[0] or "application/octet-stream", data


def add_turn(turns: list[JSON], role: str, key: str, items: list[JSON]) -> None:
    """Append a turn, merged into the previous one when it has the same role: Anthropic and
    Gemini want tool results and a user's follow-up in the one turn that answers the call."""
    if not items:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1][key].extend(items)
    else:
        turns.append({"role": role, key: items})


def json_arguments(arguments: Any) -> Any:
    """Tool call arguments arrive as a JSON string; formats other than OpenAI want objects."""
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str) and arguments.strip():
        try:
            value = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {"value": value}
    return {}


def stop_list(stop: Any) -> list[str]:
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list):
        return [s for s in stop if isinstance(s, str)]
    return []


def clamp(value: Any, lo: float, hi: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return min(max(value, lo), hi)
