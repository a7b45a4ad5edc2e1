"""Google Gemini: `POST {base}/models/{model}:generateContent` (or `:streamGenerateContent`)."""

import secrets
from typing import Any

import orjson

from gateway import images, reasoning
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

FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
}
# Gemini's Schema is an OpenAPI subset; other JSON Schema keywords are rejected upstream.
SCHEMA_KEYS = frozenset(
    [
        "type",
        "format",
        "description",
        "nullable",
        "enum",
        "properties",
        "required",
        "items",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "anyOf",
        "propertyOrdering",
        "title",
        "minLength",
        "maxLength",
    ]
)
EXTENSIONS = {"png": "image/png", "gif": "image/gif", "webp": "image/webp"}


def gemini_schema(schema: Any) -> Any:
    """JSON Schema -> Gemini Schema: type lists become `nullable`, unknown keywords go."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in SCHEMA_KEYS:
            continue
        if key == "type" and isinstance(value, list):
            concrete = [t for t in value if t != "null"]
            out["type"] = concrete[0] if concrete else "null"
            if "null" in value:
                out["nullable"] = True
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: gemini_schema(sub) for name, sub in value.items()}
        elif key == "items":
            out[key] = gemini_schema(value)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [gemini_schema(v) for v in value]
        else:
            out[key] = value
    return out


def _image(url: str) -> JSON:
    parsed = parse_data_uri(url)
    if parsed is not None:
        return {"inlineData": {"mimeType": parsed[0], "data": parsed[1]}}
    extension = url.rsplit(".", 1)[-1].lower().split("?")[0]
    return {"fileData": {"mimeType": EXTENSIONS.get(extension, "image/jpeg"), "fileUri": url}}


def _parts(content: Any, name: Any = None) -> list[JSON]:
    prefix = f"{name}: " if isinstance(name, str) and name else ""
    if isinstance(content, str):
        return [{"text": prefix + content}] if content or prefix else []
    parts: list[JSON] = []
    for part in content or ():
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            parts.append({"text": str(part.get("text", ""))})
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str):
                parts.append(_image(url))
        elif part.get("type") == "file":
            # A PDF passed natively (the file-parser plugin left it for a model that reads it).
            file = part.get("file") or {}
            url = file.get("file_data") or file.get("file_url")
            if isinstance(url, str):
                inline = parse_data_uri(url)
                parts.append({"inlineData": {"mimeType": "application/pdf", "data": inline[1]}}
                             if inline else
                             {"fileData": {"mimeType": "application/pdf", "fileUri": url}})
    if prefix and parts and "text" in parts[0]:
        parts[0]["text"] = prefix + parts[0]["text"]
    return parts


def _contents(messages: list[JSON]) -> tuple[list[JSON], list[JSON]]:
    system: list[JSON] = []
    contents: list[JSON] = []
    names: dict[str, str] = {}  # tool call id -> function name: Gemini matches results by name

    def add(role: str, parts: list[JSON]) -> None:
        add_turn(contents, role, "parts", parts)

    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            system.extend(_parts(msg.get("content")))
        elif role == "user":
            add("user", _parts(msg.get("content"), msg.get("name")))
        elif role == "assistant":
            parts = _parts(msg.get("content"))
            signatures = [d["data"] for d in reasoning.details_of(msg, reasoning.GEMINI)
                          if d.get("type") == "reasoning.encrypted" and d.get("data")]
            for call in msg.get("tool_calls") or ():
                fn = call.get("function") or {}
                names[str(call.get("id"))] = str(fn.get("name"))
                parts.append(
                    {
                        "functionCall": {
                            "name": fn.get("name"),
                            "args": json_arguments(fn.get("arguments")),
                        }
                    }
                )
            if signatures and parts:
                # The thought signature rides on the first call (else the first part) of the
                # turn it was returned with, unchanged.
                first = next((p for p in parts if "functionCall" in p), parts[0])
                first["thoughtSignature"] = signatures[0]
            add("model", parts)
        elif role == "tool":
            name = names.get(str(msg.get("tool_call_id")), str(msg.get("name") or "tool"))
            text = text_of(msg.get("content"))
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError:
                value = text
            response = value if isinstance(value, dict) else {"content": value}
            add("user", [{"functionResponse": {"name": name, "response": response}}])
    return system, contents


def usage_from(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    thoughts = int(raw.get("thoughtsTokenCount") or 0)
    return Usage(
        prompt_tokens=int(raw.get("promptTokenCount") or 0),
        completion_tokens=int(raw.get("candidatesTokenCount") or 0) + thoughts,
        reasoning_tokens=thoughts,
        cached_tokens=int(raw.get("cachedContentTokenCount") or 0),
    )


def _thinking(body: JSON, endpoint: Endpoint, config: JSON, max_tokens: int) -> None:
    """Gemini 3 takes a thinking level, Gemini 2.5 a budget; thoughts are asked for so they
    can be returned as reasoning."""
    wanted = reasoning.requested(body)
    if wanted is None:
        return
    if wanted is False:
        config["thinkingConfig"] = {"thinkingBudget": 0}
        return
    thinking: JSON = {"includeThoughts": True}
    if endpoint.upstream_model.startswith("gemini-3") and not wanted.max_tokens:
        effort = wanted.effort_for(max_tokens)
        thinking["thinkingLevel"] = {"xhigh": "high", "max": "high"}.get(effort, effort)
    else:
        thinking["thinkingBudget"] = max(1, wanted.budget(max_tokens))
    config["thinkingConfig"] = thinking


def _drawn(inline: JSON) -> JSON:
    """An image the model drew (an `inlineData` part) as an `images` entry."""
    return images.data_url(str(inline.get("mimeType") or "image/png"), str(inline.get("data", "")))


def _call_id() -> str:
    return f"call_{secrets.token_hex(12)}"


class GeminiAdapter:
    def build(
        self, body: JSON, endpoint: Endpoint, *, stream: bool, max_tokens: int, api_key: str | None
    ) -> Outbound:
        system, contents = _contents(body["messages"])
        out: dict[str, Any] = {"contents": contents}
        if system:
            out["systemInstruction"] = {"parts": system}
        config: dict[str, Any] = {}
        if body.get("max_tokens") is not None or body.get("max_completion_tokens") is not None:
            config["maxOutputTokens"] = max_tokens
        temperature = clamp(body.get("temperature"), 0, 2)
        if temperature is not None:
            config["temperature"] = temperature
        for name, target in (
            ("top_p", "topP"),
            ("top_k", "topK"),
            ("seed", "seed"),
            ("presence_penalty", "presencePenalty"),
            ("frequency_penalty", "frequencyPenalty"),
        ):
            value = body.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                config[target] = value
        stops = stop_list(body.get("stop"))
        if stops:
            config["stopSequences"] = stops
        response_format = body.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") in (
            "json_object",
            "json_schema",
        ):
            config["responseMimeType"] = "application/json"
            spec = response_format.get("json_schema")
            if isinstance(spec, dict) and isinstance(spec.get("schema"), dict):
                config["responseSchema"] = gemini_schema(spec["schema"])
        if "reasoning" in body or "reasoning_effort" in body or "include_reasoning" in body:
            _thinking(body, endpoint, config, max_tokens)
        if images.wanted(body):
            config["responseModalities"] = ["TEXT", "IMAGE"]
        if config:
            out["generationConfig"] = config
        declarations = [
            {
                k: v
                for k, v in {
                    "name": t["function"].get("name"),
                    "description": t["function"].get("description"),
                    "parameters": gemini_schema(t["function"].get("parameters"))
                    if t["function"].get("parameters")
                    else None,
                }.items()
                if v is not None
            }
            for t in body.get("tools") or ()
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        ]
        if declarations:
            out["tools"] = [{"functionDeclarations": declarations}]
            choice = body.get("tool_choice")
            mode: JSON | None = None
            if choice in ("auto", "none"):
                mode = {"mode": str(choice).upper()}
            elif choice == "required":
                mode = {"mode": "ANY"}
            elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
                mode = {"mode": "ANY", "allowedFunctionNames": [choice["function"].get("name")]}
            if mode is not None:
                out["toolConfig"] = {"functionCallingConfig": mode}
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        headers = {"content-type": "application/json"}
        if api_key:
            headers["x-goog-api-key"] = api_key
        url = f"{endpoint.base_url}/models/{endpoint.upstream_model}:{action}"
        return Outbound(url, headers, orjson.dumps(out))

    def parse(self, data: JSON) -> Result:
        candidates = data.get("candidates") or [{}]
        candidate = candidates[0] if isinstance(candidates[0], dict) else {}
        texts, thoughts, calls = [], [], []
        signatures: list[JSON] = []
        drawn: list[JSON] = []
        for part in (candidate.get("content") or {}).get("parts") or ():
            if part.get("thoughtSignature"):
                signatures.append(reasoning.encrypted_detail(str(part["thoughtSignature"]),
                                                             reasoning.GEMINI))
            if "functionCall" in part:
                call = part["functionCall"] or {}
                calls.append(
                    {
                        "id": call.get("id") or _call_id(),
                        "type": "function",
                        "function": {
                            "name": call.get("name"),
                            "arguments": orjson.dumps(call.get("args") or {}).decode(),
                        },
                    }
                )
            elif part.get("thought"):
                thoughts.append(str(part.get("text", "")))
            elif "text" in part:
                texts.append(str(part["text"]))
            elif isinstance(part.get("inlineData"), dict):
                drawn.append(_drawn(part["inlineData"]))
        message: JSON = {
            "role": "assistant",
            "content": "".join(texts) if texts else None,
            "refusal": None,
            "reasoning": "".join(thoughts) or None,
        }
        # Signatures first, as OpenRouter orders them, then the thought text.
        details = signatures[:1]
        if message["reasoning"]:
            details.append(reasoning.text_detail(message["reasoning"], reasoning.GEMINI))
        for index, detail in enumerate(details):
            detail["index"] = index
        if details:
            message["reasoning_details"] = details
        if calls:
            message["tool_calls"] = calls
        if drawn:
            message["images"] = drawn
        native = candidate.get("finishReason")
        finish = None
        if native:
            finish = "tool_calls" if calls and native == "STOP" else FINISH.get(native, "stop")
        return Result(
            message, finish, native, usage_from(data.get("usageMetadata")), data.get("responseId")
        )

    def decoder(self, body: JSON) -> "GeminiDecoder":
        return GeminiDecoder(reasoning.excluded(body))

    def error_message(self, status: int, raw: bytes) -> str:
        return error_message(raw)


class GeminiDecoder:
    def __init__(self, exclude_reasoning: bool = False) -> None:
        self.state = DecoderState()
        self.calls = 0
        self.exclude = exclude_reasoning

    def feed(self, event: str | None, data: bytes) -> list[JSON]:
        deltas = self._feed(event, data)
        return reasoning.exclude_deltas(deltas) if self.exclude and deltas else deltas

    def _feed(self, event: str | None, data: bytes) -> list[JSON]:
        payload = orjson.loads(data)
        if not isinstance(payload, dict):
            return []
        state = self.state
        if payload.get("error"):
            state.error = error_message(data)
            return []
        if state.upstream_id is None:
            state.upstream_id = payload.get("responseId")
        usage = usage_from(payload.get("usageMetadata"))
        if usage is not None:
            state.usage = usage
        deltas: list[JSON] = []
        candidates = payload.get("candidates") or ()
        candidate = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
        for part in (candidate.get("content") or {}).get("parts") or ():
            if part.get("thoughtSignature"):
                deltas.append({"reasoning_details": [reasoning.encrypted_detail(
                    str(part["thoughtSignature"]), reasoning.GEMINI)]})
            if "functionCall" in part:
                call = part["functionCall"] or {}
                deltas.append(
                    {
                        "tool_calls": [
                            {
                                "index": self.calls,
                                "id": call.get("id") or _call_id(),
                                "type": "function",
                                "function": {
                                    "name": call.get("name"),
                                    "arguments": orjson.dumps(call.get("args") or {}).decode(),
                                },
                            }
                        ]
                    }
                )
                self.calls += 1
            elif part.get("thought"):
                text = str(part.get("text", ""))
                deltas.append({"reasoning": text, "reasoning_details": [
                    reasoning.text_detail(text, reasoning.GEMINI)]})
            elif part.get("text"):
                deltas.append({"content": str(part["text"])})
            elif isinstance(part.get("inlineData"), dict):
                deltas.append({"images": [_drawn(part["inlineData"])]})
        native = candidate.get("finishReason")
        if native:
            state.native_finish_reason = native
            state.finish_reason = (
                "tool_calls" if self.calls and native == "STOP" else FINISH.get(native, "stop")
            )
        return deltas
