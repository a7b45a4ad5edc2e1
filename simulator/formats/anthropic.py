"""Anthropic Messages: ``POST /v1/messages``."""

from __future__ import annotations

from typing import Any

import orjson

from simulator import reasoning
from simulator.cache import CacheRequest
from simulator.engine import Conversation, Message, Plan, Segment, Tool, ToolCall, ToolResult
from simulator.formats.base import (
    IMAGE_TYPES,
    ApiError,
    Context,
    Parsed,
    Request,
    decode_base64,
    image_matches,
)
from simulator.knobs import Knobs

_KNOWN = (
    "model messages max_tokens system stop_sequences stream temperature top_p top_k tools "
    "tool_choice metadata thinking service_tier container mcp_servers context_management "
    "cache_control "
    "inference_geo"
)
KNOWN_FIELDS = frozenset(_KNOWN.split())
VERSIONS = frozenset({"2023-06-01", "2023-01-01"})
STOP_REASON = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_calls": "tool_use",
}
_BLOCKS = (
    "text image document search_result tool_use tool_result thinking redacted_thinking "
    "server_tool_use web_search_tool_result container_upload"
)
BLOCK_TYPES = tuple(_BLOCKS.split())


def bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def _int_field(body: dict[str, Any], name: str, lo: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"{name}: Input should be a valid integer")
    if value < lo:
        raise bad(f"{name}: Input should be greater than or equal to {lo}")
    return value


def _float_field(body: dict[str, Any], name: str, lo: float, hi: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{name}: Input should be a valid number")
    if value < lo:
        raise bad(f"{name}: Input should be greater than or equal to {lo:g}")
    if value > hi:
        raise bad(f"{name}: Input should be less than or equal to {hi:g}")


def _image(block: dict[str, Any], at: str) -> None:
    source = block.get("source")
    if not isinstance(source, dict):
        raise bad(f"{at}.image.source: Field required")
    kind = source.get("type")
    if kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise bad(f"{at}.image.source.url.url: Input should be a valid URL")
        return
    if kind == "file":
        if not isinstance(source.get("file_id"), str):
            raise bad(f"{at}.image.source.file.file_id: Field required")
        return
    if kind != "base64":
        raise bad(
            f"{at}.image.source: Input tag '{kind}' found using 'type' does not match any of the "
            "expected tags: 'base64', 'url', 'file'"
        )
    media_type = source.get("media_type")
    if media_type not in IMAGE_TYPES:
        raise bad(
            f"{at}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', "
            "'image/gif' or 'image/webp'"
        )
    data = source.get("data")
    raw = decode_base64(data) if isinstance(data, str) else None
    if raw is None:
        raise bad(f"{at}.image.source.base64.data: The image data is not valid base64.")
    if not image_matches(media_type, raw):
        raise bad(
            f"{at}.image.source.base64.data: The image was specified using the {media_type} "
            "media type, but the image appears to be a different or invalid image."
        )


def _blocks_text(content: Any, at: str) -> tuple[list[str], int]:
    """Text and image count of a tool_result's content."""
    if isinstance(content, str):
        return [content], 0
    if content is None:
        return [], 0
    if not isinstance(content, list):
        raise bad(f"{at}: Input should be a valid list")
    texts, images = [], 0
    for k, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block, dict):
            texts.append(str(block.get("text", "")))
        elif kind == "image" and isinstance(block, dict):
            _image(block, f"{at}.{k}")
            images += 1
        elif kind not in ("document", "search_result"):
            raise bad(f"{at}.{k}: Input tag '{kind}' found using 'type' does not match")
    return texts, images


def _conversation(body: dict[str, Any]) -> Conversation:
    conv = Conversation()
    messages = body["messages"]
    if not isinstance(messages, list):
        raise bad("messages: Input should be a valid list")
    if not messages:
        raise bad("messages: at least one message is required")
    prev_tool_ids: list[str] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise bad(f"messages.{i}: Input should be a valid dictionary")
        role = msg.get("role")
        if role == "system":
            raise bad(
                'messages: Unexpected role "system". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.'
            )
        if role not in ("user", "assistant"):
            raise bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if "content" not in msg:
            raise bad(f"messages.{i}.content: Field required")
        content = msg["content"]
        is_final_assistant = role == "assistant" and i == len(messages) - 1
        out = Message(role)
        if isinstance(content, str):
            blocks: list[Any] = [{"type": "text", "text": content}]
        elif isinstance(content, list):
            blocks = content
        else:
            raise bad(f"messages.{i}.content: Input should be a valid list")
        if not is_final_assistant and (
            not blocks
            or all(
                b.get("type") == "text" and not b.get("text") for b in blocks if isinstance(b, dict)
            )
        ):
            raise bad(
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        answered: set[str] = set()
        for j, block in enumerate(blocks):
            at = f"messages.{i}.content.{j}"
            kind = block.get("type") if isinstance(block, dict) else None
            if kind not in BLOCK_TYPES or not isinstance(block, dict):
                raise bad(
                    f"{at}: Input tag '{kind}' found using 'type' does not match any of the "
                    "expected tags: " + ", ".join(f"'{t}'" for t in BLOCK_TYPES)
                )
            if kind == "text":
                if not isinstance(block.get("text"), str):
                    raise bad(f"{at}.text.text: Field required")
                out.texts.append(block["text"])
            elif kind == "image":
                _image(block, at)
                out.images += 1
            elif kind == "document":
                out.images += 1
            elif kind == "thinking":
                # Claude checks that thinking comes back exactly as it was produced.
                if not reasoning.verify(str(block.get("thinking", "")), block.get("signature")):
                    raise bad(f"{at}: Invalid `signature` in `thinking` block")
            elif kind == "tool_use":
                if role != "assistant":
                    raise bad(f"{at}: tool_use blocks are only allowed in assistant messages")
                if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                    raise bad(f"{at}.tool_use.id: Field required")
                if not isinstance(block.get("input"), dict):
                    raise bad(f"{at}.tool_use.input: Input should be a valid dictionary")
                out.tool_calls.append(ToolCall(block["id"], block["name"], block["input"]))
            elif kind == "tool_result":
                if role != "user":
                    raise bad(f"{at}: tool_result blocks are only allowed in user messages")
                ref = block.get("tool_use_id")
                if not isinstance(ref, str):
                    raise bad(f"{at}.tool_result.tool_use_id: Field required")
                if ref not in prev_tool_ids:
                    raise bad(
                        f"{at}: unexpected `tool_use_id` found in `tool_result` blocks: {ref}. "
                        "Each `tool_result` block must have a corresponding `tool_use` block in "
                        "the previous message."
                    )
                texts, images = _blocks_text(block.get("content"), f"{at}.tool_result.content")
                out.tool_results.append(ToolResult(ref, "".join(texts)))
                out.images += images
                answered.add(ref)
        missing = [t for t in prev_tool_ids if t not in answered]
        if missing:
            raise bad(
                f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
        prev_tool_ids = [c.id for c in out.tool_calls]
        conv.messages.append(out)
    return conv


def _system(body: dict[str, Any], conv: Conversation) -> None:
    system = body.get("system")
    if system is None:
        return
    if isinstance(system, str):
        conv.system.append(system)
        return
    if not isinstance(system, list):
        raise bad("system: Input should be a valid list")
    for k, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise bad(f"system.{k}.type: Input should be 'text'")
        conv.system.append(str(block.get("text", "")))


def _tools(body: dict[str, Any], conv: Conversation) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise bad("tools: Input should be a valid list")
        for k, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                raise bad(f"tools.{k}.custom.name: Field required")
            if tool.get("type") not in (None, "custom"):
                continue  # server tools (web search, ...) run upstream, not in the model
            schema = tool.get("input_schema")
            if not isinstance(schema, dict):
                raise bad(f"tools.{k}.custom.input_schema: Field required")
            conv.tools.append(Tool(tool["name"], str(tool.get("description", "")), schema))
    choice = body.get("tool_choice")
    if choice is None:
        return
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in ("auto", "any", "tool", "none"):
        raise bad(
            "tool_choice: Input tag found using 'type' does not match any of the expected tags: "
            "'auto', 'any', 'tool', 'none'"
        )
    assert isinstance(choice, dict)
    if kind in ("any", "tool") and not conv.tools:
        raise bad("tool_choice: tool_choice may only be specified while providing tools.")
    if choice.get("disable_parallel_tool_use") is True:
        conv.parallel_tools = False
    if kind == "tool":
        name = choice.get("name")
        if not isinstance(name, str):
            raise bad("tool_choice.tool.name: Field required")
        if name not in {t.name for t in conv.tools}:
            raise bad(f"tool_choice: tool '{name}' not found in tools")
        conv.tool_choice, conv.forced_tool = "tool", name
    else:
        conv.tool_choice = "required" if kind == "any" else "none" if kind == "none" else "auto"


def _thinking(body: dict[str, Any], conv: Conversation, max_tokens: int) -> None:
    thinking = body.get("thinking")
    if thinking is None:
        return
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind == "disabled":
        return
    if kind == "adaptive":
        conv.thinking = reasoning.EFFORT_BUDGET["medium"]
        return
    if kind != "enabled":
        raise bad("thinking: Input tag found using 'type' does not match any of the expected "
                  "tags: 'enabled', 'disabled', 'adaptive'")
    assert isinstance(thinking, dict)
    budget = _int_field(thinking, "budget_tokens", 1024)
    if budget is None:
        raise bad("thinking.enabled.budget_tokens: Field required")
    if max_tokens <= budget:
        raise bad("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult "
                  "our documentation at https://docs.claude.com/en/docs/build-with-claude/"
                  "extended-thinking#max-tokens-and-context-window-size")
    conv.thinking = budget


def _cache_request(body: dict[str, Any]) -> CacheRequest | None:
    """Breakpoints: `cache_control` on tools or system blocks (prefix of 0 messages), on a
    block of message i (prefix of i + 1), or top level (automatic: the whole conversation)."""
    points: list[int] = []
    ttls: list[str] = []

    def mark(block: Any, end: int) -> None:
        control = block.get("cache_control") if isinstance(block, dict) else None
        if isinstance(control, dict):
            points.append(end)
            ttls.append(str(control.get("ttl", "5m")))

    for tool in body.get("tools") or ():
        mark(tool, 0)
    if isinstance(body.get("system"), list):
        for block in body["system"]:
            mark(block, 0)
    for i, msg in enumerate(body.get("messages") or ()):
        if isinstance(msg, dict) and isinstance(msg.get("content"), list):
            for block in msg["content"]:
                mark(block, i + 1)
    mark(body, len(body.get("messages") or ()))
    if len(points) - (1 if "cache_control" in body else 0) > 4:
        raise bad("A maximum of 4 blocks with cache_control may be provided. Found "
                  f"{len(points)}.")
    if not points:
        return None
    return CacheRequest(points, explicit=True, ttl_s=3600.0 if "1h" in ttls else 300.0)


class AnthropicFormat:
    name = "anthropic"
    stream_content_type = "text/event-stream; charset=utf-8"
    text_before_tool = True

    def check_auth(self, req: Request, knobs: Knobs) -> None:
        if knobs.api_key is None:
            return
        key = req.headers.get("x-api-key")
        if not key:
            raise ApiError(401, "auth", "x-api-key header is required")
        if key != knobs.api_key:
            raise ApiError(401, "auth", "invalid x-api-key")

    def parse(self, req: Request, knobs: Knobs) -> Parsed:
        version = req.headers.get("anthropic-version")
        if not version:
            raise bad("anthropic-version: header is required")
        if version not in VERSIONS:
            raise bad(f"anthropic-version: invalid version {version!r}")
        try:
            body = orjson.loads(req.body)
        except orjson.JSONDecodeError as exc:
            raise bad(f"There was an issue with your request body: invalid JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise bad("Input should be a valid dictionary")
        for key in body:
            if key not in KNOWN_FIELDS:
                raise bad(f"{key}: Extra inputs are not permitted")
        for required in ("model", "messages", "max_tokens"):
            if required not in body:
                raise bad(f"{required}: Field required")
        model = body["model"]
        if not isinstance(model, str) or not model:
            raise bad("model: Input should be a valid string")
        max_tokens = _int_field(body, "max_tokens", 1)
        _float_field(body, "temperature", 0, 1)
        _float_field(body, "top_p", 0, 1)
        _int_field(body, "top_k", 0)

        conv = _conversation(body)
        _system(body, conv)
        _tools(body, conv)
        conv.max_tokens = max_tokens
        _thinking(body, conv, max_tokens or 0)
        stops = body.get("stop_sequences")
        if stops is not None:
            if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
                raise bad("stop_sequences: Input should be a valid list of strings")
            conv.stop = list(stops)
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise bad("stream: Input should be a valid boolean")
        return Parsed(model, stream, conv, {"cache": _cache_request(body)})

    def render_error(self, err: ApiError) -> bytes:
        kind = {
            "invalid_request": "invalid_request_error",
            "auth": "authentication_error",
            "not_found": "not_found_error",
            "rate_limit": "rate_limit_error",
            "overloaded": "overloaded_error",
            "unavailable": "overloaded_error",
        }.get(err.kind, "api_error")
        return orjson.dumps({"type": "error", "error": {"type": kind, "message": err.message}})

    def server_error(self, status: int) -> ApiError:
        if status == 529:
            return ApiError(529, "overloaded", "Overloaded")
        return ApiError(status, "server", "Internal server error")

    def rate_limited(self, retry_after: int) -> ApiError:
        return ApiError(
            429,
            "rate_limit",
            "This request would exceed the rate limit for your organization of 50 requests per "
            "minute. Please try again later.",
            headers=[
                ("retry-after", str(retry_after)),
                ("anthropic-ratelimit-requests-remaining", "0"),
            ],
        )

    def unavailable(self) -> ApiError:
        return ApiError(529, "unavailable", "Overloaded")

    def model_not_found(self, model: str) -> ApiError:
        return ApiError(404, "not_found", f"model: {model}")

    def midstream_error(self) -> ApiError:
        return ApiError(529, "overloaded", "Overloaded")

    def response_headers(self, ctx: Context) -> list[tuple[str, str]]:
        return [("request-id", ctx.request_id)]

    def response(self, ctx: Context, plan: Plan) -> dict[str, Any]:
        return {
            "id": ctx.request_id,
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": [_block(seg, full=True) for seg in plan.segments],
            "stop_reason": STOP_REASON[plan.finish],
            "stop_sequence": plan.stop_sequence,
            "usage": _usage(plan, plan.completion_tokens),
        }

    def encoder(self, ctx: Context) -> AnthropicEncoder:
        return AnthropicEncoder(ctx)


def _usage(plan: Plan, completion: int) -> dict[str, Any]:
    # input_tokens counts only what was neither read from nor written to the cache.
    read, written = plan.cached_tokens, plan.cache_write_tokens
    return {
        "input_tokens": plan.prompt_tokens - read - written,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
        "output_tokens": completion,
        "service_tier": "standard",
    }


def _block(seg: Segment, *, full: bool) -> dict[str, Any]:
    if seg.kind == "text":
        return {"type": "text", "text": seg.text if full else ""}
    if seg.kind == "thinking":
        return {"type": "thinking", "thinking": seg.text if full else "",
                "signature": reasoning.sign(seg.text) if full else ""}
    tool_input: Any = {}
    if full:
        try:
            tool_input = orjson.loads(seg.text)
        except orjson.JSONDecodeError:
            tool_input = {}  # cut by max_tokens: the real API also drops the partial input
    return {
        "type": "tool_use",
        "id": f"toolu_01{seg.call_id[:22]}",
        "name": seg.name,
        "input": tool_input,
    }


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class AnthropicEncoder:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.pinged = False

    def start(self, plan: Plan) -> bytes:
        message: dict[str, Any] = {
            "id": self.ctx.request_id,
            "type": "message",
            "role": "assistant",
            "model": self.ctx.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _usage(plan, 1),
        }
        return _event("message_start", {"type": "message_start", "message": message})

    def segment_start(self, index: int, seg: Segment) -> bytes:
        out = _event(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": _block(seg, full=False),
            },
        )
        if not self.pinged:
            self.pinged = True
            out += _event("ping", {"type": "ping"})
        return out

    def piece(self, index: int, seg: Segment, piece: str) -> bytes:
        if not piece:
            return b""
        delta = (
            {"type": "text_delta", "text": piece}
            if seg.kind == "text"
            else {"type": "thinking_delta", "thinking": piece}
            if seg.kind == "thinking"
            else {"type": "input_json_delta", "partial_json": piece}
        )
        return _event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )

    def segment_end(self, index: int, seg: Segment) -> bytes:
        out = b""
        if seg.kind == "thinking":
            delta = {"type": "signature_delta", "signature": reasoning.sign(seg.text)}
            out = _event("content_block_delta",
                         {"type": "content_block_delta", "index": index, "delta": delta})
        return out + _event("content_block_stop", {"type": "content_block_stop", "index": index})

    def finish(self, plan: Plan) -> bytes:
        return _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": STOP_REASON[plan.finish],
                    "stop_sequence": plan.stop_sequence,
                },
                "usage": {"output_tokens": plan.completion_tokens},
            },
        ) + _event("message_stop", {"type": "message_stop"})

    def error(self, err: ApiError) -> bytes:
        return b"event: error\ndata: " + AnthropicFormat().render_error(err) + b"\n\n"
