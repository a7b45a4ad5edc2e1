"""POST /api/v1/messages: the Anthropic Messages API over the chat-completions engine.

Any catalog model answers (not only Anthropic's): the request becomes a chat body (system,
content blocks, tools, thinking -> `reasoning`, cache_control kept on text parts), and the
answer or stream is rewritten into Messages blocks and Anthropic's named SSE events.
"""

from typing import Any

import orjson

from gateway import reasoning
from gateway.errors import bad_request
from gateway.request import json_object
from gateway.surface import JSON, Translator, suffix

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
                "content_filter": "refusal", "error": "end_turn"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               402: "billing_error", 403: "permission_error", 404: "not_found_error",
               408: "timeout_error", 413: "request_too_large", 429: "rate_limit_error",
               500: "api_error", 502: "api_error", 503: "overloaded_error",
               504: "timeout_error", 529: "overloaded_error"}
PASSTHROUGH = ("model", "models", "provider", "plugins", "route", "session_id", "user",
               "stream", "temperature", "top_p", "top_k", "max_tokens", "transforms",
               "service_tier", "cache_control")


def _image_part(block: JSON) -> JSON:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
    else:
        url = str(source.get("url", ""))
    return {"type": "image_url", "image_url": {"url": url}}


def _file_part(block: JSON) -> JSON:
    """A PDF document block -> a chat `file` part, which the file-parser plugin reads."""
    source = block["source"]
    url = (f"data:{source.get('media_type') or 'application/pdf'};base64,{source.get('data')}"
           if source.get("type") == "base64" else str(source.get("url", "")))
    return {"type": "file",
            "file": {"filename": str(block.get("title") or "document.pdf"), "file_data": url}}


def _text_part(block: JSON) -> JSON:
    part: JSON = {"type": "text", "text": str(block.get("text", ""))}
    if isinstance(block.get("cache_control"), dict):
        part["cache_control"] = block["cache_control"]
    return part


def _tool_result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(str(b.get("text", "")) for b in content or ()
                   if isinstance(b, dict) and b.get("type") == "text")


def _user_turn(blocks: list[JSON], at: str) -> list[JSON]:
    """Tool results become tool messages, placed before the rest of the user's turn."""
    results: list[JSON] = []
    parts: list[JSON] = []
    for j, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "text":
            parts.append(_text_part(block))
        elif kind == "image":
            parts.append(_image_part(block))
        elif kind == "tool_result":
            if not isinstance(block.get("tool_use_id"), str):
                raise bad_request(f"{at}.content[{j}].tool_use_id is required")
            text = _tool_result_text(block.get("content"))
            if block.get("is_error"):
                text = f"Error: {text}"
            results.append({"role": "tool", "tool_call_id": block["tool_use_id"],
                            "content": text})
        elif kind == "document" and isinstance(block.get("source"), dict) \
                and block["source"].get("type") in ("base64", "url"):
            parts.append(_file_part(block))
        elif kind in ("document", "search_result"):
            parts.append({"type": "text", "text": _tool_result_text(block.get("content"))
                          if kind == "search_result" else str(block.get("title") or "")})
    return results + ([{"role": "user", "content": parts}] if parts else [])


def _assistant_turn(blocks: list[JSON]) -> JSON:
    texts: list[str] = []
    calls: list[JSON] = []
    details: list[JSON] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            calls.append({"id": block.get("id"), "type": "function",
                          "function": {"name": block.get("name"),
                                       "arguments": orjson.dumps(block.get("input") or {})
                                       .decode()}})
        elif kind == "thinking":
            details.append(reasoning.text_detail(str(block.get("thinking", "")),
                                                 reasoning.ANTHROPIC, len(details),
                                                 block.get("signature") or None))
        elif kind == "redacted_thinking":
            details.append(reasoning.encrypted_detail(str(block.get("data", "")),
                                                      reasoning.ANTHROPIC, len(details)))
    # A signed thinking block may carry Gemini's thought signature (see thinking_blocks): it
    # goes back in Gemini's form as well, first; each adapter reads only its own format.
    details = [reasoning.encrypted_detail(str(d["signature"]), reasoning.GEMINI, i)
               for i, d in enumerate(details) if d.get("signature")] + details
    turn: JSON = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        turn["tool_calls"] = calls
    if details:
        turn["reasoning_details"] = details
    return turn


def _system(system: Any) -> list[JSON]:
    if system is None:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    if not isinstance(system, list):
        raise bad_request("'system' must be a string or an array of text blocks")
    return [{"role": "system", "content": [_text_part(b) for b in system
                                           if isinstance(b, dict) and b.get("type") == "text"]}]


def _tools(body: JSON, out: JSON) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise bad_request("'tools' must be an array")
        out["tools"] = [
            {"type": "function", "function": {
                "name": t["name"], "description": t.get("description", ""),
                "parameters": t.get("input_schema") or {"type": "object", "properties": {}}}}
            for t in tools
            if isinstance(t, dict) and isinstance(t.get("name"), str)
            and t.get("type") in (None, "custom")
        ]
        if not out["tools"]:
            del out["tools"]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "tool":
            out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
        elif kind in ("auto", "any", "none"):
            out["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[kind]
        if choice.get("disable_parallel_tool_use") is True:
            out["parallel_tool_calls"] = False


def _thinking(body: JSON, out: JSON) -> None:
    thinking = body.get("thinking")
    effort = (body.get("output_config") or {}).get("effort") \
        if isinstance(body.get("output_config"), dict) else None
    if isinstance(thinking, dict):
        kind = thinking.get("type")
        if kind == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
                raise bad_request("'thinking.budget_tokens' must be a positive integer")
            out["reasoning"] = {"max_tokens": budget}
        elif kind == "adaptive":
            out["reasoning"] = {"effort": effort} if effort in reasoning.RATIOS else {}
        elif kind == "disabled":
            out["reasoning"] = {"enabled": False}
    elif effort in reasoning.RATIOS:
        out["reasoning"] = {"effort": effort}


def to_chat(body: JSON) -> JSON:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty array")
    chat: list[JSON] = _system(body.get("system"))
    for i, msg in enumerate(messages):
        at = f"messages[{i}]"
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant", "system"):
            raise bad_request(f"{at}.role must be user or assistant")
        content = msg.get("content")
        if isinstance(content, str):
            chat.append({"role": msg["role"], "content": content})
            continue
        if not isinstance(content, list) or not all(isinstance(b, dict) for b in content):
            raise bad_request(f"{at}.content must be a string or an array of content blocks")
        if msg["role"] == "assistant":
            chat.append(_assistant_turn(content))
        elif msg["role"] == "system":
            chat.extend(_system(content))
        else:
            chat.extend(_user_turn(content, at))
    out: JSON = {k: body[k] for k in PASSTHROUGH if body.get(k) is not None}
    out["messages"] = chat
    if isinstance(body.get("stop_sequences"), list):
        out["stop"] = body["stop_sequences"]
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        out.setdefault("user", metadata["user_id"])
    fallbacks = body.get("fallbacks")
    if fallbacks is not None:
        if body.get("models") is not None:
            raise bad_request("Send 'fallbacks' or 'models', not both")
        if not isinstance(fallbacks, list) or len(fallbacks) > 3 or not all(
                isinstance(f, dict) and isinstance(f.get("model"), str) for f in fallbacks):
            raise bad_request("'fallbacks' must be at most 3 objects with a 'model'")
        out["models"] = [f["model"] for f in fallbacks]
    _tools(body, out)
    _thinking(body, out)
    return out


def usage_of(usage: JSON | None) -> JSON:
    usage = usage or {}
    details = usage.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    written = int(details.get("cache_write_tokens") or 0)
    thinking = int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
    return {
        "input_tokens": max(0, int(usage.get("prompt_tokens") or 0) - cached - written),
        "output_tokens": int(usage.get("completion_tokens") or 0),
        "cache_creation_input_tokens": written, "cache_read_input_tokens": cached,
        "cache_creation": None, "server_tool_use": None,
        "output_tokens_details": {"thinking_tokens": thinking},
        "service_tier": "standard", "cost": usage.get("cost"), "is_byok": False,
        "cost_details": usage.get("cost_details"),
    }


def _gemini_signature(detail: JSON) -> str | None:
    if detail.get("type") == "reasoning.encrypted" and \
            detail.get("format") == reasoning.GEMINI and detail.get("data"):
        return str(detail["data"])
    return None


def thinking_blocks(message: JSON) -> list[JSON]:
    blocks: list[JSON] = []
    signatures: list[str] = []
    for detail in message.get("reasoning_details") or ():
        if detail.get("type") == "reasoning.text":
            blocks.append({"type": "thinking", "thinking": detail.get("text") or "",
                           "signature": detail.get("signature") or ""})
        elif detail.get("type") == "reasoning.encrypted" and \
                detail.get("format") == reasoning.ANTHROPIC:
            blocks.append({"type": "redacted_thinking", "data": detail.get("data") or ""})
        elif (signature := _gemini_signature(detail)) is not None:
            signatures.append(signature)
    if not blocks and message.get("reasoning"):
        blocks.append({"type": "thinking", "thinking": message["reasoning"], "signature": ""})
    if signatures:
        # Gemini's thought signature signs the turn's thinking, so it is that thinking
        # block's signature (a block of its own when the thoughts were not returned).
        unsigned = [b for b in blocks if b["type"] == "thinking" and not b["signature"]]
        if unsigned:
            unsigned[0]["signature"] = signatures[0]
        else:
            blocks.insert(0, {"type": "thinking", "thinking": "", "signature": signatures[0]})
    return blocks


def _event(name: str, data: JSON) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **data}) \
        + b"\n\n"


def citations(annotations: Any) -> list[JSON]:
    """Web search `url_citation` annotations as Anthropic's text-block citations."""
    out = []
    for note in annotations or ():
        cite = note.get("url_citation") if isinstance(note, dict) else None
        if isinstance(cite, dict):
            out.append({"type": "web_search_result_location", "url": cite.get("url"),
                        "title": cite.get("title"), "encrypted_index": "",
                        "cited_text": str(cite.get("content") or "")[:150]})
    return out


class MessagesTranslator(Translator):
    api_type = "messages"

    def __init__(self, send: Any) -> None:
        super().__init__(send)
        self.started = False
        self.block: str | None = None  # kind of the open content block
        self.index = -1
        self.tools: dict[int, int] = {}  # chat tool_calls index -> block index
        self.stop_reason: str | None = None

    def chat_request(self, raw: bytes) -> bytes:
        self.body = json_object(raw)
        return orjson.dumps(to_chat(self.body))

    def authorization(self, headers: dict[bytes, bytes]) -> str | None:
        # Bearer wins; the Anthropic SDK sends its key as x-api-key.
        if b"authorization" in headers:
            return headers[b"authorization"].decode("latin-1")
        key = headers.get(b"x-api-key")
        return f"Bearer {key.decode('latin-1')}" if key is not None else None

    def on_error(self, status: int, error: JSON) -> JSON:
        metadata = error.get("metadata") if isinstance(error.get("metadata"), dict) else {}
        return {"type": "error", "request_id": None, "error": {
            "type": ERROR_TYPES.get(status, "api_error"),
            "message": error.get("message") or "Error",
            "error_type": (metadata or {}).get("error_type")}}

    def on_answer(self, answer: JSON) -> JSON:
        choice = (answer.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        content = thinking_blocks(message)
        if message.get("content"):
            text: JSON = {"type": "text", "text": message["content"]}
            cited = citations(message.get("annotations"))
            if cited:
                text["citations"] = cited
            content.append(text)
        for call in message.get("tool_calls") or ():
            fn = call.get("function") or {}
            try:
                args = orjson.loads(fn.get("arguments") or "{}")
            except orjson.JSONDecodeError:
                args = {}
            content.append({"type": "tool_use", "id": call.get("id"), "name": fn.get("name"),
                            "input": args if isinstance(args, dict) else {},
                            "caller": {"type": "direct"}})
        return {"id": "msg_" + suffix(str(answer.get("id"))), "type": "message",
                "role": "assistant", "model": answer.get("model"),
                "provider": answer.get("provider"), "container": None, "content": content,
                "stop_reason": STOP_REASONS.get(choice.get("finish_reason") or "stop",
                                                "end_turn"),
                "stop_sequence": None, "stop_details": None,
                "usage": usage_of(answer.get("usage"))}

    # -- streaming -----------------------------------------------------------------------

    def on_keepalive(self) -> bytes:
        return _event("ping", {})

    def _open(self, kind: str, block: JSON) -> bytes:
        out = self._close()
        self.index += 1
        self.block = kind
        return out + _event("content_block_start", {"index": self.index, "content_block": block})

    def _close(self) -> bytes:
        if self.block is None:
            return b""
        self.block = None
        return _event("content_block_stop", {"index": self.index})

    def _delta(self, delta: JSON) -> bytes:
        return _event("content_block_delta", {"index": self.index, "delta": delta})

    def on_chunk(self, chunk: JSON) -> bytes:
        out = b""
        if not self.started:
            self.started = True
            out += _event("message_start", {"message": {
                "id": "msg_" + suffix(str(chunk.get("id"))), "type": "message",
                "role": "assistant", "model": chunk.get("model"), "content": [],
                "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0}}})
        if chunk.get("error"):
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            return out + _event("error", {"error": {
                "type": "api_error", "message": error.get("message") or "Provider error",
                "error_type": (error.get("metadata") or {}).get("error_type")}})
        for choice in chunk.get("choices") or ():
            out += self._choice(choice)
        if chunk.get("usage") and not chunk.get("choices"):
            out += self._close() + _event("message_delta", {
                "delta": {"stop_reason": self.stop_reason or "end_turn", "stop_sequence": None,
                          "stop_details": None, "container": None},
                "usage": usage_of(chunk["usage"])}) + _event("message_stop", {})
        return out

    def _choice(self, choice: JSON) -> bytes:
        out = b""
        delta = choice.get("delta") or {}
        details = delta.get("reasoning_details") or []
        if not details and delta.get("reasoning"):
            details = [reasoning.text_detail(delta["reasoning"], reasoning.UNKNOWN)]
        for detail in details:
            if detail.get("type") == "reasoning.text":
                if self.block != "thinking":
                    out += self._open("thinking", {"type": "thinking", "thinking": "",
                                                   "signature": ""})
                if detail.get("text"):
                    out += self._delta({"type": "thinking_delta", "thinking": detail["text"]})
                if detail.get("signature"):
                    out += self._delta({"type": "signature_delta",
                                        "signature": detail["signature"]})
            elif detail.get("type") == "reasoning.encrypted" and \
                    detail.get("format") == reasoning.ANTHROPIC:
                out += self._open("redacted", {"type": "redacted_thinking",
                                               "data": detail.get("data") or ""})
            elif (signature := _gemini_signature(detail)) is not None:
                # Gemini sends it on the part after its thoughts: it signs the open thinking.
                if self.block != "thinking":
                    out += self._open("thinking", {"type": "thinking", "thinking": "",
                                                   "signature": ""})
                out += self._delta({"type": "signature_delta", "signature": signature})
        if delta.get("content"):
            if self.block != "text":
                out += self._open("text", {"type": "text", "text": ""})
            out += self._delta({"type": "text_delta", "text": delta["content"]})
        for citation in citations(delta.get("annotations")):
            if self.block != "text":
                out += self._open("text", {"type": "text", "text": ""})
            out += self._delta({"type": "citations_delta", "citation": citation})
        for call in delta.get("tool_calls") or ():
            fn = call.get("function") or {}
            position = int(call.get("index") or 0)
            if call.get("id") and position not in self.tools:
                out += self._open("tool", {"type": "tool_use", "id": call["id"],
                                           "name": fn.get("name"), "input": {}})
                self.tools[position] = self.index
            if fn.get("arguments"):
                out += self._delta({"type": "input_json_delta",
                                    "partial_json": fn["arguments"]})
        if choice.get("finish_reason"):
            self.stop_reason = STOP_REASONS.get(choice["finish_reason"], "end_turn")
        return out
