"""What every wire format module provides, plus shared request-checking helpers."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from simulator.engine import Conversation, Plan, Segment
from simulator.knobs import Knobs

ErrorKind = Literal[
    "invalid_request", "auth", "not_found", "rate_limit", "overloaded", "server", "unavailable"
]

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


class ApiError(Exception):
    """An error the simulated provider answers with, rendered in its own shape."""

    def __init__(
        self,
        status: int,
        kind: ErrorKind,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or []
        self.details = details or []


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    provider: str
    # Gemini carries the model and the action in the path.
    path_model: str | None = None
    action: str | None = None


@dataclass
class Parsed:
    model: str
    stream: bool
    conv: Conversation
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    provider: str
    request_id: str
    model: str
    created: int = field(default_factory=lambda: int(time.time()))
    options: dict[str, Any] = field(default_factory=dict)


class Encoder(Protocol):
    """Turns a plan into the format's stream, one call per step of generation."""

    def start(self, plan: Plan) -> bytes: ...
    def segment_start(self, index: int, seg: Segment) -> bytes: ...
    def piece(self, index: int, seg: Segment, piece: str) -> bytes: ...
    def segment_end(self, index: int, seg: Segment) -> bytes: ...
    def finish(self, plan: Plan) -> bytes: ...
    def error(self, err: ApiError) -> bytes: ...


class Format(Protocol):
    name: str
    stream_content_type: str
    # Anthropic's models often say a sentence before calling a tool.
    text_before_tool: bool

    def check_auth(self, req: Request, knobs: Knobs) -> None: ...
    def parse(self, req: Request, knobs: Knobs) -> Parsed: ...
    def render_error(self, err: ApiError) -> bytes: ...
    def server_error(self, status: int) -> ApiError: ...
    def rate_limited(self, retry_after: int) -> ApiError: ...
    def unavailable(self) -> ApiError: ...
    def model_not_found(self, model: str) -> ApiError: ...
    def midstream_error(self) -> ApiError: ...
    def response(self, ctx: Context, plan: Plan) -> dict[str, Any]: ...
    def encoder(self, ctx: Context) -> Encoder: ...
    def response_headers(self, ctx: Context) -> list[tuple[str, str]]: ...


def decode_base64(data: str) -> bytes | None:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def image_matches(media_type: str, raw: bytes) -> bool:
    magic = _MAGIC.get(media_type)
    if magic is None:
        return False
    if media_type == "image/webp":
        return raw[:4] == b"RIFF" and raw[8:12] == b"WEBP"
    return raw.startswith(magic)


def sniff_image(raw: bytes) -> str | None:
    for media_type in IMAGE_TYPES:
        if image_matches(media_type, raw):
            return media_type
    return None


def parse_data_uri(uri: str) -> tuple[str, str] | None:
    """``data:<type>;base64,<data>`` -> (type, data)."""
    if not uri.startswith("data:") or "," not in uri:
        return None
    header, data = uri[5:].split(",", 1)
    parts = header.split(";")
    if "base64" not in parts[1:]:
        return None
    return parts[0].lower(), data


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
