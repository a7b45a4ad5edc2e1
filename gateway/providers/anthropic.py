"""Anthropic Messages: `POST {base}/messages`.

Structured output has no native switch in the Messages API, so `response_format`
json_schema/json_object becomes one forced tool whose input is the answer; its input is
returned to the client as the message text (streamed as content deltas).
"""

from typing import Any

import orjson

from gateway import reasoning
from gateway.catalog import Endpoint
from gateway.pricing import Usage
from gateway.providers.base import (
    JSON,
    DecoderState,
    Outbound,
    Result,
    add_turn,
    clamp,
    error_message,
    json_arguments,
    parse_data_uri,
    stop_list,
    text_of,
)
from gateway.streaming import estimate_tokens

VERSION = "2023-06-01"
JSON_TOOL = "json_response"
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
          "tool_use": "tool_calls", "refusal": "content_filter", "pause_turn": "stop"}


def _image(url: str) -> JSON:
    parsed = parse_data_uri(url)
    if parsed is None:
        return {"type": "image", "source": {"type": "url", "url": url}}
    media_type, data = parsed
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def _document(url: str) -> JSON:
    parsed = parse_data_uri(url)
    if parsed is None:
        return {"type": "document", "source": {"type": "url", "url": url}}
    return {"type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": parsed[1]}}


def _blocks(content: Any, name: Any = None) -> list[JSON]:
    prefix = f"{name}: " if isinstance(name, str) and name else ""
    if isinstance(content, str):
        return [{"type": "text", "text": prefix + content}] if content or prefix else []
    blocks: list[JSON] = []
    for part in content or ():
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            block: JSON = {"type": "text", "text": str(part.get("text", ""))}
            if isinstance(part.get("cache_control"), dict):
                block["cache_control"] = part["cache_control"]
            blocks.append(block)
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str):
                blocks.append(_image(url))
        elif kind == "file":
            # A PDF passed natively (the file-parser plugin left it for a model that reads it).
            file = part.get("file") or {}
            url = file.get("file_data") or file.get("file_url")
            if isinstance(url, str):
                blocks.append(_document(url))
    if prefix and blocks and blocks[0]["type"] == "text":
        blocks[0]["text"] = prefix + blocks[0]["text"]
    return blocks


def _thinking_blocks(msg: JSON) -> list[JSON]:
    blocks: list[JSON] = []
    for detail in reasoning.details_of(msg, reasoning.ANTHROPIC):
        if detail.get("type") == "reasoning.text" and detail.get("signature"):
            blocks.append({"type": "thinking", "thinking": str(detail.get("text") or ""),
                           "signature": detail["signature"]})
        elif detail.get("type") == "reasoning.encrypted" and detail.get("data"):
            blocks.append({"type": "redacted_thinking", "data": detail["data"]})
    return blocks


def _thinking(body: JSON, out: JSON, max_tokens: int) -> None:
    """`reasoning` -> a thinking budget; the upstream `max_tokens` must exceed the budget, so
    it is raised to budget + the requested `max_tokens` when it does not."""
    wanted = reasoning.requested(body)
    if not wanted:
        return
    budget = reasoning.anthropic_budget(wanted, max_tokens)
    out["thinking"] = {"type": "enabled", "budget_tokens": budget}
    if out["max_tokens"] <= budget:
        out["max_tokens"] = budget + max_tokens
    # Extended thinking accepts no sampling changes.
    for name in ("temperature", "top_k"):
        out.pop(name, None)


def _messages(messages: list[JSON]) -> tuple[list[JSON], list[JSON]]:
    system: list[JSON] = []
    out: list[JSON] = []

    def add(role: str, blocks: list[JSON]) -> None:
        add_turn(out, role, "content", blocks)

    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            system.extend(_blocks(msg.get("content")))
        elif role == "user":
            add("user", _blocks(msg.get("content"), msg.get("name")))
        elif role == "assistant":
            # Thinking goes back first and untouched: Claude checks its signatures.
            blocks = _thinking_blocks(msg) + _blocks(msg.get("content"))
            for call in msg.get("tool_calls") or ():
                fn = call.get("function") or {}
                blocks.append({"type": "tool_use", "id": call.get("id"), "name": fn.get("name"),
                               "input": json_arguments(fn.get("arguments"))})
            add("assistant", blocks)
        elif role == "tool":
            add("user", [{"type": "tool_result", "tool_use_id": msg.get("tool_call_id"),
                          "content": text_of(msg.get("content"))}])
    return system, out


def _schema_of(response_format: Any) -> JSON | None:
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_object":
        return {"type": "object"}
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return schema if isinstance(schema, dict) else {"type": "object"}
    return None


def usage_from(raw: Any, previous: Usage | None = None) -> Usage | None:
    if not isinstance(raw, dict):
        return previous
    usage = previous or Usage()
    if "input_tokens" in raw:
        read = int(raw.get("cache_read_input_tokens") or 0)
        written = int(raw.get("cache_creation_input_tokens") or 0)
        usage.prompt_tokens = int(raw.get("input_tokens") or 0) + read + written
        usage.cached_tokens = read
        usage.cache_write_tokens = written
    if "output_tokens" in raw:
        usage.completion_tokens = int(raw.get("output_tokens") or 0)
    return usage


class AnthropicAdapter:
    def build(self, body: JSON, endpoint: Endpoint, *, stream: bool, max_tokens: int,
              api_key: str | None) -> Outbound:
        system, messages = _messages(body["messages"])
        out: dict[str, Any] = {"model": endpoint.upstream_model, "messages": messages,
                               "max_tokens": max_tokens}
        if system:
            out["system"] = system
        temperature = clamp(body.get("temperature"), 0, 1)
        if temperature is not None:
            out["temperature"] = temperature
        for name in ("top_p", "top_k"):
            if isinstance(body.get(name), int | float) and not isinstance(body.get(name), bool):
                out[name] = body[name]
        stops = stop_list(body.get("stop"))
        if stops:
            out["stop_sequences"] = stops
        tools = [
            {"name": t["function"]["name"], "description": t["function"].get("description", ""),
             "input_schema": t["function"].get("parameters") or {"type": "object",
                                                                   "properties": {}}}
            for t in body.get("tools") or ()
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        ]
        choice = body.get("tool_choice")
        tool_choice: JSON | None = None
        if choice == "auto":
            tool_choice = {"type": "auto"}
        elif choice == "required":
            tool_choice = {"type": "any"}
        elif choice == "none":
            tool_choice = {"type": "none"}
        elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
            tool_choice = {"type": "tool", "name": choice["function"].get("name")}
        schema = _schema_of(body.get("response_format"))
        if schema is not None and not tools:
            tools = [{"name": JSON_TOOL, "description": "Respond with the answer as JSON.",
                      "input_schema": schema}]
            tool_choice = {"type": "tool", "name": JSON_TOOL}
        if tools:
            out["tools"] = tools
            if body.get("parallel_tool_calls") is False:
                tool_choice = {**(tool_choice or {"type": "auto"}),
                               "disable_parallel_tool_use": True}
        if tool_choice is not None and tools:
            out["tool_choice"] = tool_choice
        if "reasoning" in body or "reasoning_effort" in body or "include_reasoning" in body:
            _thinking(body, out, max_tokens)
        if isinstance(body.get("cache_control"), dict):
            out["cache_control"] = body["cache_control"]  # automatic caching
        if stream:
            out["stream"] = True
        headers = {"content-type": "application/json", "anthropic-version": VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        return Outbound(f"{endpoint.base_url}/messages", headers, orjson.dumps(out))

    def parse(self, data: JSON) -> Result:
        texts: list[str] = []
        thinking: list[str] = []
        calls: list[JSON] = []
        details: list[JSON] = []
        json_mode = False
        for block in data.get("content") or ():
            kind = block.get("type")
            if kind == "text":
                texts.append(block.get("text", ""))
            elif kind == "thinking":
                thought = str(block.get("thinking", ""))
                thinking.append(thought)
                details.append(reasoning.text_detail(thought, reasoning.ANTHROPIC, len(details),
                                                     block.get("signature")))
            elif kind == "redacted_thinking":
                details.append(reasoning.encrypted_detail(str(block.get("data", "")),
                                                          reasoning.ANTHROPIC, len(details)))
            elif kind == "tool_use" and block.get("name") == JSON_TOOL:
                json_mode = True
                texts = [orjson.dumps(block.get("input") or {}).decode()]
            elif kind == "tool_use":
                calls.append({"id": block.get("id"), "type": "function",
                              "function": {"name": block.get("name"),
                                           "arguments": orjson.dumps(block.get("input") or {})
                                           .decode()}})
        message: JSON = {"role": "assistant", "content": "".join(texts) if texts else None,
                         "refusal": None, "reasoning": "".join(thinking) or None}
        if details:
            message["reasoning_details"] = details
        if calls:
            message["tool_calls"] = calls
        native = data.get("stop_reason")
        finish = "stop" if json_mode and native == "tool_use" else FINISH.get(native or "", "stop")
        usage = usage_from(data.get("usage"))
        if usage is not None and thinking:
            # Anthropic bills thinking inside output_tokens without counting it apart.
            usage.reasoning_tokens = estimate_tokens("".join(thinking))
        return Result(message, finish if native else None, native, usage, data.get("id"))

    def decoder(self, body: JSON) -> "AnthropicDecoder":
        return AnthropicDecoder(reasoning.excluded(body))

    def error_message(self, status: int, raw: bytes) -> str:
        return error_message(raw)


class AnthropicDecoder:
    def __init__(self, exclude_reasoning: bool = False) -> None:
        self.state = DecoderState()
        self.exclude = exclude_reasoning
        self.tool_index: dict[int, int] = {}  # content block index -> OpenAI tool_calls index
        self.json_blocks: set[int] = set()
        self.thinking: list[str] = []
        self.details = 0  # reasoning_details index of the current thinking block

    def feed(self, event: str | None, data: bytes) -> list[JSON]:
        deltas = self._feed(event, data)
        return reasoning.exclude_deltas(deltas) if self.exclude and deltas else deltas

    def _feed(self, event: str | None, data: bytes) -> list[JSON]:
        payload = orjson.loads(data)
        if not isinstance(payload, dict):
            return []
        kind = payload.get("type") or event
        state = self.state
        if kind == "message_start":
            message = payload.get("message") or {}
            state.upstream_id = message.get("id")
            state.usage = usage_from(message.get("usage"))
            if state.usage is not None:
                state.prompt_tokens = state.usage.prompt_tokens
                state.usage.completion_tokens = 0
        elif kind == "content_block_start":
            block = payload.get("content_block") or {}
            index = int(payload.get("index") or 0)
            if block.get("type") == "tool_use":
                if block.get("name") == JSON_TOOL:
                    self.json_blocks.add(index)
                    return []
                position = len(self.tool_index)
                self.tool_index[index] = position
                return [{"tool_calls": [{"index": position, "id": block.get("id"),
                                         "type": "function",
                                         "function": {"name": block.get("name"),
                                                      "arguments": ""}}]}]
            if block.get("type") == "text" and block.get("text"):
                return [{"content": block["text"]}]
            if block.get("type") in ("thinking", "redacted_thinking") and self.thinking:
                self.details += 1
            if block.get("type") == "thinking":
                self.thinking.append("")
            if block.get("type") == "redacted_thinking":
                self.thinking.append("")
                return [{"reasoning_details": [reasoning.encrypted_detail(
                    str(block.get("data", "")), reasoning.ANTHROPIC, self.details)]}]
        elif kind == "content_block_delta":
            delta = payload.get("delta") or {}
            index = int(payload.get("index") or 0)
            dtype = delta.get("type")
            if dtype == "text_delta":
                return [{"content": delta.get("text", "")}]
            if dtype == "thinking_delta":
                text = str(delta.get("thinking", ""))
                if self.thinking:
                    self.thinking[-1] += text
                return [{"reasoning": text, "reasoning_details": [
                    reasoning.text_detail(text, reasoning.ANTHROPIC, self.details)]}]
            if dtype == "signature_delta":
                detail = reasoning.text_detail("", reasoning.ANTHROPIC, self.details,
                                               str(delta.get("signature", "")))
                return [{"reasoning_details": [detail]}]
            if dtype == "input_json_delta":
                piece = delta.get("partial_json", "")
                if index in self.json_blocks:
                    return [{"content": piece}] if piece else []
                return [{"tool_calls": [{"index": self.tool_index.get(index, 0),
                                         "function": {"arguments": piece}}]}] if piece else []
        elif kind == "message_delta":
            native = (payload.get("delta") or {}).get("stop_reason")
            if native:
                state.native_finish_reason = native
                json_only = self.json_blocks and not self.tool_index
                state.finish_reason = ("stop" if json_only and native == "tool_use"
                                       else FINISH.get(native, "stop"))
            state.usage = usage_from(payload.get("usage"), state.usage)
            if state.usage is not None and self.thinking:
                state.usage.reasoning_tokens = estimate_tokens("".join(self.thinking))
        elif kind == "message_stop":
            state.done = True
        elif kind == "error":
            state.error = error_message(data)
        return []
