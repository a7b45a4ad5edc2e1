"""POST /api/v1/responses: the OpenAI Responses API (stateless) over the chat engine.

Input items become chat messages; the answer becomes output items (reasoning, message,
function calls) and, streamed, OpenAI's event sequence with sequence numbers. Reasoning
details ride in the reasoning item's `encrypted_content`, so a client that echoes the item
sends them back to the provider intact (Anthropic signatures, Gemini thought signatures).
"""

import base64
import time
from typing import Any

import orjson

from gateway.errors import bad_request
from gateway.request import json_object
from gateway.surface import JSON, Translator, suffix

PASSTHROUGH = ("model", "models", "provider", "plugins", "route", "session_id", "user",
               "stream", "temperature", "top_p", "top_k", "presence_penalty",
               "frequency_penalty", "top_logprobs", "parallel_tool_calls", "service_tier",
               "transforms", "cache_control")
ECHOED = ("instructions", "metadata", "tools", "tool_choice", "parallel_tool_calls",
          "temperature", "top_p", "presence_penalty", "frequency_penalty", "max_output_tokens",
          "reasoning", "text", "truncation")


def _parts(content: Any, where: str) -> str | list[JSON]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad_request(f"{where}.content must be a string or an array of parts")
    parts: list[JSON] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "refusal":
            parts.append({"type": "text", "text": str(part.get("refusal", ""))})
        elif kind == "input_image":
            url = part.get("image_url") or part.get("file_id")
            if not isinstance(url, str):
                raise bad_request(f"{where}: input_image needs an image_url")
            parts.append({"type": "image_url",
                          "image_url": {"url": url, "detail": part.get("detail") or "auto"}})
        elif kind == "input_file":
            parts.append({"type": "file", "file": {k: part[k] for k in (
                "filename", "file_data", "file_url") if k in part}})
    return parts


def _pack(details: list[JSON]) -> str:
    return base64.b64encode(orjson.dumps(details)).decode()


def _unpack(data: Any) -> list[JSON]:
    if not isinstance(data, str):
        return []
    try:
        details = orjson.loads(base64.b64decode(data))
    except (ValueError, orjson.JSONDecodeError):
        return []
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _messages(body: JSON) -> list[JSON]:
    chat: list[JSON] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        chat.append({"role": "system", "content": instructions})
    items = body.get("input")
    if isinstance(items, str):
        return [*chat, {"role": "user", "content": items}]
    if not isinstance(items, list) or not items:
        raise bad_request("'input' must be a string or a non-empty array of items")
    pending: list[JSON] = []  # reasoning details for the next assistant turn

    def assistant() -> JSON:
        if not chat or chat[-1]["role"] != "assistant" or chat[-1].get("_closed"):
            chat.append({"role": "assistant", "content": None})
        turn = chat[-1]
        if pending:
            turn["reasoning_details"] = [*turn.get("reasoning_details", []), *pending]
            pending.clear()
        return turn

    for i, item in enumerate(items):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "system", "developer", "assistant"):
                raise bad_request(f"{where}.role must be user, system, developer or assistant")
            content = _parts(item.get("content"), where)
            if role == "assistant":
                turn = assistant()
                text = content if isinstance(content, str) else "".join(
                    p.get("text", "") for p in content)
                turn["content"] = (turn["content"] or "") + text
            else:
                chat.append({"role": role, "content": content})
        elif kind == "function_call":
            if not isinstance(item.get("call_id"), str) or not isinstance(item.get("name"), str):
                raise bad_request(f"{where}: function_call needs call_id and name")
            turn = assistant()
            turn.setdefault("tool_calls", []).append({
                "id": item["call_id"], "type": "function",
                "function": {"name": item["name"], "arguments": str(item.get("arguments") or "")}})
        elif kind == "function_call_output":
            if not isinstance(item.get("call_id"), str):
                raise bad_request(f"{where}: function_call_output needs call_id")
            output = item.get("output")
            text = output if isinstance(output, str) else "".join(
                str(p.get("text", "")) for p in output or () if isinstance(p, dict))
            chat.append({"role": "tool", "tool_call_id": item["call_id"], "content": text})
        elif kind == "reasoning":
            pending.extend(_unpack(item.get("encrypted_content")))
        else:
            raise bad_request(f"{where}.type '{kind}' is not supported")
    for turn in chat:
        turn.pop("_closed", None)
    return chat


def _tools(body: JSON, out: JSON) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise bad_request("'tools' must be an array")
        functions = []
        for tool in tools:
            if not isinstance(tool, dict) or tool.get("type") != "function" or \
                    not isinstance(tool.get("name"), str):
                raise bad_request("'tools' must be function tools with a name")
            fn: JSON = {"name": tool["name"], "parameters": tool.get("parameters") or
                        {"type": "object", "properties": {}}}
            for key in ("description", "strict"):
                if tool.get(key) is not None:
                    fn[key] = tool[key]
            functions.append({"type": "function", "function": fn})
        if functions:
            out["tools"] = functions
    choice = body.get("tool_choice")
    if isinstance(choice, str):
        out["tool_choice"] = choice
    elif isinstance(choice, dict) and choice.get("type") == "function":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}


def to_chat(body: JSON) -> JSON:
    if body.get("store") is True:
        raise bad_request("'store' must be false: responses are not stored")
    if body.get("previous_response_id") is not None:
        raise bad_request("'previous_response_id' is not supported: send the whole "
                          "conversation in 'input'")
    if body.get("background") is True:
        raise bad_request("'background' responses are not supported")
    if "input" not in body:
        raise bad_request("'input' is required")
    out: JSON = {k: body[k] for k in PASSTHROUGH if body.get(k) is not None}
    out["messages"] = _messages(body)
    if body.get("max_output_tokens") is not None:
        out["max_tokens"] = body["max_output_tokens"]
    if isinstance(body.get("safety_identifier"), str):
        out.setdefault("user", body["safety_identifier"])
    spec = body.get("reasoning")
    if isinstance(spec, dict):
        out["reasoning"] = {k: spec[k] for k in ("effort", "max_tokens", "enabled", "exclude")
                            if spec.get(k) is not None}
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        out["response_format"] = {"type": "json_schema", "json_schema": {
            k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}}
    elif isinstance(fmt, dict) and fmt.get("type") == "json_object":
        out["response_format"] = {"type": "json_object"}
    _tools(body, out)
    return out


def usage_of(usage: JSON | None) -> JSON:
    usage = usage or {}
    prompt = usage.get("prompt_tokens_details") or {}
    cost = usage.get("cost_details") or {}
    return {
        "input_tokens": int(usage.get("prompt_tokens") or 0),
        "input_tokens_details": {"cached_tokens": int(prompt.get("cached_tokens") or 0),
                                 "cache_write_tokens": int(prompt.get("cache_write_tokens")
                                                           or 0)},
        "output_tokens": int(usage.get("completion_tokens") or 0),
        "output_tokens_details": {"reasoning_tokens": int(
            (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)},
        "total_tokens": int(usage.get("total_tokens") or 0),
        "cost": usage.get("cost"), "is_byok": False,
        "cost_details": {"upstream_inference_cost": None,
                         "upstream_inference_input_cost": cost.get(
                             "upstream_inference_prompt_cost"),
                         "upstream_inference_output_cost": cost.get(
                             "upstream_inference_completions_cost")},
    }


def reasoning_item(item_id: str, text: str, details: list[JSON]) -> JSON:
    item: JSON = {"type": "reasoning", "id": item_id,
                  "summary": [{"type": "summary_text", "text": text}] if text else []}
    if text:
        item["content"] = [{"type": "reasoning_text", "text": text}]
    if details:
        item["encrypted_content"] = _pack(details)
    return item


def flat(annotation: Any) -> Any:
    """A chat annotation in the Responses shape: a url_citation's keys at the top level."""
    if isinstance(annotation, dict) and isinstance(annotation.get("url_citation"), dict):
        return {"type": "url_citation", **annotation["url_citation"]}
    return annotation


def message_item(item_id: str, text: str, status: str = "completed",
                 annotations: list[Any] | None = None) -> JSON:
    return {"type": "message", "id": item_id, "role": "assistant", "status": status,
            "content": [{"type": "output_text", "text": text,
                         "annotations": [flat(a) for a in annotations or ()],
                         "logprobs": []}] if status == "completed" else []}


def call_item(item_id: str, call_id: str, name: str, arguments: str,
              status: str = "completed") -> JSON:
    return {"type": "function_call", "id": item_id, "call_id": call_id, "name": name,
            "arguments": arguments, "status": status}


class ResponsesTranslator(Translator):
    api_type = "responses"

    def __init__(self, send: Any) -> None:
        super().__init__(send)
        self.created = int(time.time())
        self.sequence = 0
        self.response_id = ""
        self.model: str | None = None
        self.output: list[JSON] = []
        self.open: JSON | None = None  # the output item being streamed
        self.texts: dict[str, str] = {}
        self.annotations: dict[str, list[Any]] = {}  # by message item: its citations
        self.details: list[JSON] = []
        self.calls: dict[int, JSON] = {}
        self.finish: str | None = None

    def chat_request(self, raw: bytes) -> bytes:
        self.body = json_object(raw)
        return orjson.dumps(to_chat(self.body))

    def response(self, status: str, usage: JSON | None = None) -> JSON:
        text = "".join(c.get("text", "") for item in self.output if item["type"] == "message"
                       for c in item["content"])
        out: JSON = {
            "id": self.response_id, "object": "response", "created_at": self.created,
            "completed_at": int(time.time()) if status != "in_progress" else None,
            "model": self.model, "status": status, "output": self.output,
            "output_text": text, "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete"
            else None, "store": False, "previous_response_id": None,
        }
        for key in ECHOED:
            out[key] = self.body.get(key)
        out["tools"] = self.body.get("tools") or []
        out["tool_choice"] = self.body.get("tool_choice") or "auto"
        out["parallel_tool_calls"] = self.body.get("parallel_tool_calls", True)
        if usage is not None:
            out["usage"] = usage_of(usage)
        return out

    def on_answer(self, answer: JSON) -> JSON:
        self.response_id = "resp_" + suffix(str(answer.get("id")))
        self.model = answer.get("model")
        key = suffix(self.response_id)
        choice = (answer.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        if message.get("reasoning") or message.get("reasoning_details"):
            self.output.append(reasoning_item(f"rs_{key}", message.get("reasoning") or "",
                                              message.get("reasoning_details") or []))
        if message.get("content"):
            self.output.append(message_item(f"msg_{key}", message["content"],
                                            annotations=message.get("annotations")))
        for n, call in enumerate(message.get("tool_calls") or ()):
            fn = call.get("function") or {}
            self.output.append(call_item(f"fc_{key}_{n}", str(call.get("id")),
                                         str(fn.get("name")), str(fn.get("arguments") or "")))
        status = "incomplete" if choice.get("finish_reason") == "length" else "completed"
        return self.response(status, answer.get("usage"))

    # -- streaming -----------------------------------------------------------------------

    def _event(self, kind: str, **data: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.sequence, **data}
        self.sequence += 1
        return b"data: " + orjson.dumps(payload) + b"\n\n"

    def _add(self, item: JSON) -> bytes:
        out = self._close()
        self.output.append(item)
        self.open = item
        out += self._event("response.output_item.added", output_index=len(self.output) - 1,
                           item=item)
        if item["type"] == "message":
            out += self._event("response.content_part.added", item_id=item["id"],
                               output_index=len(self.output) - 1, content_index=0,
                               part={"type": "output_text", "text": "", "annotations": []})
        return out

    def _close(self) -> bytes:
        item, self.open = self.open, None
        if item is None:
            return b""
        index = self.output.index(item)
        text = self.texts.get(item["id"], "")
        out = b""
        if item["type"] == "message":
            item.update(message_item(item["id"], text,
                                     annotations=self.annotations.pop(item["id"], None)))
            part = item["content"][0]
            out += self._event("response.output_text.done", item_id=item["id"],
                               output_index=index, content_index=0, text=text, logprobs=[])
            out += self._event("response.content_part.done", item_id=item["id"],
                               output_index=index, content_index=0, part=part)
        elif item["type"] == "reasoning":
            item.update(reasoning_item(item["id"], text, self.details))
            # The reasoning streamed live as reasoning_text; its summary (the same text)
            # follows once it is whole, in the order of the reference.
            if text:
                out += self._event("response.reasoning_text.done", item_id=item["id"],
                                   output_index=index, content_index=0, text=text)
            out += self._event("response.reasoning_summary_part.added", item_id=item["id"],
                               output_index=index, summary_index=0,
                               part={"type": "summary_text", "text": ""})
            if text:
                out += self._event("response.reasoning_summary_text.delta", item_id=item["id"],
                                   output_index=index, summary_index=0, delta=text)
            out += self._event("response.reasoning_summary_text.done", item_id=item["id"],
                               output_index=index, summary_index=0, text=text)
            out += self._event("response.reasoning_summary_part.done", item_id=item["id"],
                               output_index=index, summary_index=0,
                               part={"type": "summary_text", "text": text})
        elif item["type"] == "function_call":
            item.update(status="completed", arguments=text)
            out += self._event("response.function_call_arguments.done", item_id=item["id"],
                               output_index=index, name=item["name"], arguments=text)
        return out + self._event("response.output_item.done", output_index=index, item=item)

    def _append(self, kind: str, text: str) -> bytes:
        assert self.open is not None
        item_id = self.open["id"]
        self.texts[item_id] = self.texts.get(item_id, "") + text
        index = len(self.output) - 1
        if kind == "reasoning":
            return self._event("response.reasoning_text.delta", item_id=item_id,
                               output_index=index, content_index=0, delta=text)
        if kind == "message":
            return self._event("response.output_text.delta", item_id=item_id,
                               output_index=index, content_index=0, delta=text, logprobs=[])
        return self._event("response.function_call_arguments.delta", item_id=item_id,
                           output_index=index, delta=text)

    def _annotate(self, annotations: list[Any]) -> bytes:
        """Web search citations as they stream: one annotation.added event each."""
        assert self.open is not None
        item_id = self.open["id"]
        kept = self.annotations.setdefault(item_id, [])
        out = b""
        for annotation in annotations:
            kept.append(annotation)
            out += self._event("response.output_text.annotation.added", item_id=item_id,
                               output_index=len(self.output) - 1, content_index=0,
                               annotation_index=len(kept) - 1, annotation=flat(annotation))
        return out

    def on_chunk(self, chunk: JSON) -> bytes:
        out = b""
        key = suffix(str(chunk.get("id")))
        if not self.response_id:
            self.response_id = "resp_" + key
            self.model = chunk.get("model")
            skeleton = self.response("in_progress")
            out += self._event("response.created", response=skeleton)
            out += self._event("response.in_progress", response=skeleton)
        if chunk.get("error"):
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            out += self._close()
            failed = self.response("failed", chunk.get("usage"))
            failed["error"] = {"code": "server_error",
                               "message": error.get("message") or "Provider error"}
            failed["error_type"] = (error.get("metadata") or {}).get("error_type")
            return out + self._event("response.failed", response=failed)
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            thought = delta.get("reasoning")
            details = delta.get("reasoning_details") or []
            if thought or details:
                if self.open is None or self.open["type"] != "reasoning":
                    out += self._add(reasoning_item(f"rs_{key}", "", []))
                self.details.extend(details)
                if thought:
                    out += self._append("reasoning", thought)
            if delta.get("content"):
                if self.open is None or self.open["type"] != "message":
                    out += self._add(message_item(f"msg_{key}", "", "in_progress"))
                out += self._append("message", delta["content"])
            if delta.get("annotations") and self.open is not None \
                    and self.open["type"] == "message":
                out += self._annotate(delta["annotations"])
            for call in delta.get("tool_calls") or ():
                fn = call.get("function") or {}
                position = int(call.get("index") or 0)
                if position not in self.calls:
                    item = call_item(f"fc_{key}_{position}", str(call.get("id")),
                                     str(fn.get("name")), "", "in_progress")
                    self.calls[position] = item
                    out += self._add(item)
                if fn.get("arguments"):
                    out += self._append("function_call", fn["arguments"])
            self.finish = choice.get("finish_reason") or self.finish
        if chunk.get("usage") and not chunk.get("choices"):
            out += self._close()
            status = "incomplete" if self.finish == "length" else "completed"
            out += self._event(f"response.{status}",
                               response=self.response(status, chunk["usage"]))
        return out

    def on_done(self) -> bytes:
        return b"data: [DONE]\n\n"
