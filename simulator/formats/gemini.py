"""Google Gemini: ``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent``.

Field names are accepted in camelCase and snake_case, as Google's JSON mapping of protobuf
does; unknown names are rejected as the real API does. Error paths use snake_case.
"""

from __future__ import annotations

import base64
import binascii
import re
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
    image_matches,
)
from simulator.knobs import Knobs

REQUEST_FIELDS = {
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
    "labels",
    "model",
}
CONTENT_FIELDS = {"role", "parts"}
PART_FIELDS = {
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "thought",
    "thoughtSignature",
    "executableCode",
    "codeExecutionResult",
    "videoMetadata",
    "partMetadata",
    "mediaResolution",
}
GENERATION_FIELDS = {
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "_responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
    "audioTimestamp",
    "routingConfig",
}
TOOL_FIELDS = {
    "functionDeclarations",
    "googleSearch",
    "googleSearchRetrieval",
    "codeExecution",
    "urlContext",
    "computerUse",
    "fileSearch",
    "googleMaps",
    "retrieval",
}
DECLARATION_FIELDS = {
    "name",
    "description",
    "parameters",
    "parametersJsonSchema",
    "response",
    "responseJsonSchema",
    "behavior",
}
MIME_PREFIXES = ("image/", "audio/", "video/", "text/", "application/pdf", "application/json")
FINISH = {"stop": "STOP", "stop_sequence": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}
STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_URLSAFE = str.maketrans("-_", "+/")
_SNAKE_RE = re.compile(r"_([a-z])")


def camel(name: str) -> str:
    return _SNAKE_RE.sub(lambda m: m.group(1).upper(), name)


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def bad(message: str, field: str | None = None) -> ApiError:
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{**({"field": field} if field else {}), "description": message}],
        }
    ]
    return ApiError(400, "invalid_request", message, details=details if field is not None else None)


def _fields(obj: Any, allowed: set[str], at: str) -> dict[str, Any]:
    """Normalise keys to camelCase, rejecting the ones protobuf would not know."""
    if not isinstance(obj, dict):
        where = f" at '{at}'" if at else ""
        raise bad(f"Invalid JSON payload received. Expected an object{where}.", at)
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = camel(key)
        if name not in allowed:
            where = f" at '{at}'" if at else ""
            raise bad(
                f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.',
                at,
            )
        out[name] = value
    return out


def _b64(data: str) -> bytes | None:
    # protobuf JSON accepts both the standard and the URL-safe alphabet, padding optional
    normal = data.translate(_URLSAFE) + "=" * (-len(data) % 4)
    try:
        return base64.b64decode(normal, validate=True)
    except (binascii.Error, ValueError):
        return None


def _check_blob(blob: Any, at: str, *, inline: bool) -> None:
    fields = _fields(
        blob,
        {"mimeType", "data", "displayName"} if inline else {"mimeType", "fileUri", "displayName"},
        at,
    )
    mime = fields.get("mimeType")
    if inline and not isinstance(fields.get("data"), str):
        raise bad(f"* GenerateContentRequest.{at}.data: data is required\n", at)
    if not inline and not isinstance(fields.get("fileUri"), str):
        raise bad(f"* GenerateContentRequest.{at}.file_uri: file_uri is required\n", at)
    if not isinstance(mime, str) or not mime:
        raise bad(f"* GenerateContentRequest.{at}.mime_type: mime_type is required\n", at)
    if not mime.startswith(MIME_PREFIXES):
        raise bad(f"Unsupported MIME type: {mime}")
    if not inline:
        return
    raw = _b64(fields["data"])
    if raw is None:
        shown = fields["data"][:40]
        raise bad(
            f"Invalid value at '{at}.data' (TYPE_BYTES), Base64 decoding failed for \"{shown}\"",
            f"{at}.data",
        )
    if mime in IMAGE_TYPES and not image_matches(mime, raw):
        raise bad(
            "Unable to process input image. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting"
        )


def _content(raw: Any, at: str) -> tuple[str | None, list[dict[str, Any]]]:
    content = _fields(raw, CONTENT_FIELDS, at)
    role = content.get("role")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise bad(f"* GenerateContentRequest.{at}.parts: contents.parts must not be empty.\n", at)
    out = []
    for k, part in enumerate(parts):
        p_at = f"{at}.parts[{k}]"
        fields = _fields(part, PART_FIELDS, p_at)
        if "text" in fields and not isinstance(fields["text"], str):
            shown = orjson.dumps(fields["text"]).decode()
            raise bad(f"Invalid value at '{p_at}.text' (TYPE_STRING), {shown}", p_at)
        if "inlineData" in fields:
            _check_blob(fields["inlineData"], f"{p_at}.inline_data", inline=True)
        if "fileData" in fields:
            _check_blob(fields["fileData"], f"{p_at}.file_data", inline=False)
        for key in ("functionCall", "functionResponse"):
            if key in fields:
                allowed = (
                    {"name", "args", "id"}
                    if key == "functionCall"
                    else {"name", "response", "id", "parts", "willContinue", "scheduling"}
                )
                fields[key] = _fields(fields[key], allowed, f"{p_at}.{snake(key)}")
                if not isinstance(fields[key].get("name"), str):
                    raise bad(
                        f"* GenerateContentRequest.{p_at}.{snake(key)}.name: name is "
                        "not specified\n",
                        p_at,
                    )
        if not set(fields) & {
            "text",
            "inlineData",
            "fileData",
            "functionCall",
            "functionResponse",
            "executableCode",
            "codeExecutionResult",
        }:
            raise bad(
                f"* GenerateContentRequest.{p_at}.data: required oneof field 'data' must "
                "have one initialized field\n",
                p_at,
            )
        if "thoughtSignature" in fields and not reasoning.thought_signature_valid(
            fields["thoughtSignature"]
        ):
            raise bad("Unable to submit request because Thought signature is not valid.", p_at)
        out.append(fields)
    return role if isinstance(role, str) else None, out


def _conversation(body: dict[str, Any]) -> Conversation:
    conv = Conversation()
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        if contents is not None and not isinstance(contents, list):
            raise bad("Invalid JSON payload received. Expected a list for 'contents'.", "contents")
        raise bad("* GenerateContentRequest.contents: contents is not specified\n")
    prev_calls: list[str] = []
    for i, raw in enumerate(contents):
        at = f"contents[{i}]"
        role, parts = _content(raw, at)
        if role is None:
            role = "user"  # single-turn requests may omit the role
        if role not in ("user", "model"):
            raise bad("Please use a valid role: user, model.")
        msg = Message("user" if role == "user" else "assistant")
        responses = 0
        for fields in parts:
            if "thoughtSignature" in fields:
                conv.signatures.append(fields["thoughtSignature"])
            if "text" in fields and not fields.get("thought"):
                msg.texts.append(fields["text"])
            if "inlineData" in fields or "fileData" in fields:
                msg.images += 1
            if "functionCall" in fields:
                call = fields["functionCall"]
                args = call.get("args") or {}
                msg.tool_calls.append(ToolCall(str(call.get("id", "")), call["name"], args))
            if "functionResponse" in fields:
                resp = fields["functionResponse"]
                msg.tool_results.append(
                    ToolResult(resp["name"], orjson.dumps(resp.get("response") or {}).decode())
                )
                responses += 1
        if responses:
            if not prev_calls:
                raise bad(
                    "Please ensure that function response turn comes immediately after a "
                    "function call turn."
                )
            if responses != len(prev_calls):
                raise bad(
                    "Please ensure that the number of function response parts is equal to "
                    "the number of function call parts of the function call turn."
                )
        prev_calls = [c.name for c in msg.tool_calls]
        conv.messages.append(msg)
    return conv


def _tools(body: dict[str, Any], conv: Conversation) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise bad("Invalid JSON payload received. Expected a list for 'tools'.", "tools")
        for i, raw in enumerate(tools):
            tool = _fields(raw, TOOL_FIELDS, f"tools[{i}]")
            for k, decl_raw in enumerate(tool.get("functionDeclarations") or []):
                at = f"tools[{i}].function_declarations[{k}]"
                decl = _fields(decl_raw, DECLARATION_FIELDS, at)
                name = decl.get("name")
                if not isinstance(name, str) or not re.fullmatch(
                    r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}", name
                ):
                    raise bad(
                        f"* GenerateContentRequest.{at}.name: Invalid function name. Must "
                        "start with a letter or an underscore. Must be alphameric (a-z, A-Z, "
                        "0-9), underscores (_), dots (.), colons (:), or dashes (-), with a "
                        "maximum length of 64.\n",
                        at,
                    )
                if "parameters" in decl and "parametersJsonSchema" in decl:
                    raise bad(
                        f"* GenerateContentRequest.{at}: parameters and "
                        "parameters_json_schema cannot both be set\n",
                        at,
                    )
                params = decl.get("parametersJsonSchema", decl.get("parameters"))
                conv.tools.append(Tool(name, str(decl.get("description", "")), params or {}))
    config = body.get("toolConfig")
    if config is None:
        return
    cfg = _fields(config, {"functionCallingConfig", "retrievalConfig"}, "tool_config")
    fcc = _fields(
        cfg.get("functionCallingConfig") or {},
        {"mode", "allowedFunctionNames"},
        "tool_config.function_calling_config",
    )
    mode = fcc.get("mode", "AUTO")
    if mode not in ("AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"):
        raise bad(
            f"Invalid value at 'tool_config.function_calling_config.mode' "
            f"(type.googleapis.com/google.ai.generativelanguage.v1beta."
            f'FunctionCallingConfig.Mode), "{mode}"',
            "tool_config.function_calling_config.mode",
        )
    allowed = fcc.get("allowedFunctionNames") or []
    if mode == "NONE":
        conv.tool_choice = "none"
    elif mode == "ANY":
        names = {t.name for t in conv.tools}
        for name in allowed:
            if name not in names:
                raise bad(
                    f"* GenerateContentRequest.tool_config.function_calling_config."
                    f"allowed_function_names: function '{name}' is not declared\n"
                )
        if len(allowed) == 1:
            conv.tool_choice, conv.forced_tool = "tool", allowed[0]
        else:
            conv.tool_choice = "required"
            if allowed:
                conv.tools = [t for t in conv.tools if t.name in allowed]


def _generation_config(body: dict[str, Any], conv: Conversation) -> None:
    raw = body.get("generationConfig")
    if raw is None:
        return
    cfg = _fields(raw, GENERATION_FIELDS, "generation_config")
    max_out = cfg.get("maxOutputTokens")
    if max_out is not None:
        if isinstance(max_out, bool) or not isinstance(max_out, int):
            raise bad(
                f"Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), "
                f"{orjson.dumps(max_out).decode()}",
                "generation_config.max_output_tokens",
            )
        if max_out > 0:
            conv.max_tokens = max_out
    temperature = cfg.get("temperature")
    if isinstance(temperature, int | float) and not 0 <= temperature <= 2:
        raise bad(
            "* GenerateContentRequest.generation_config.temperature: temperature must be "
            "between 0 and 2\n"
        )
    count = cfg.get("candidateCount")
    if isinstance(count, int) and count > 1:
        raise bad("simulator: only candidateCount=1 is supported")
    stops = cfg.get("stopSequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise bad(
                "Invalid value at 'generation_config.stop_sequences'",
                "generation_config.stop_sequences",
            )
        if len(stops) > 5:
            raise bad(
                "* GenerateContentRequest.generation_config.stop_sequences: the number of "
                "stop_sequences must not exceed 5\n"
            )
        conv.stop = list(stops)
    seed = cfg.get("seed")
    if isinstance(seed, int):
        conv.seed = seed
    thinking = cfg.get("thinkingConfig")
    if isinstance(thinking, dict):
        budget = thinking.get("thinkingBudget")
        level = thinking.get("thinkingLevel")
        if isinstance(budget, int) and not isinstance(budget, bool) and budget != 0:
            conv.thinking = budget if budget > 0 else reasoning.EFFORT_BUDGET["medium"]
        elif isinstance(level, str):
            conv.thinking = reasoning.budget_for_effort(level.lower())
    mime = cfg.get("responseMimeType")
    schema = cfg.get(
        "responseJsonSchema", cfg.get("_responseJsonSchema", cfg.get("responseSchema"))
    )
    if schema is not None and mime not in ("application/json", "text/x.enum"):
        raise bad(
            "* GenerateContentRequest.generation_config.response_mime_type: "
            "response_mime_type must be one of ['application/json', 'text/x.enum'] when "
            "response_schema is set.\n"
        )
    if mime == "application/json":
        conv.json_schema = schema if isinstance(schema, dict) else {}
    elif mime not in (None, "text/plain", "text/x.enum"):
        raise bad(
            "* GenerateContentRequest.generation_config.response_mime_type: allowed "
            "mimetypes are `text/plain`, `application/json`, `application/xml`, "
            "`application/yaml` and `text/x.enum`.\n"
        )


class GeminiFormat:
    name = "gemini"
    stream_content_type = "text/event-stream"
    text_before_tool = False

    def check_auth(self, req: Request, knobs: Knobs) -> None:
        if knobs.api_key is None:
            return
        key = req.headers.get("x-goog-api-key") or req.query.get("key")
        if not key:
            raise ApiError(
                403,
                "auth",
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        if key != knobs.api_key:
            raise ApiError(400, "auth", "API key not valid. Please pass a valid API key.")

    def parse(self, req: Request, knobs: Knobs) -> Parsed:
        try:
            raw = orjson.loads(req.body)
        except orjson.JSONDecodeError as exc:
            raise bad(f"Invalid JSON payload received. {exc}") from exc
        body = _fields(raw, REQUEST_FIELDS, "")
        conv = _conversation(body)
        system = body.get("systemInstruction")
        if system is not None:
            _, parts = _content(system, "system_instruction")
            conv.system.extend(p["text"] for p in parts if "text" in p)
        _tools(body, conv)
        _generation_config(body, conv)
        for k, setting in enumerate(body.get("safetySettings") or []):
            _fields(setting, {"category", "threshold", "method"}, f"safety_settings[{k}]")
        model = req.path_model or ""
        stream = req.action == "streamGenerateContent"
        thinking = (body.get("generationConfig") or {}).get("thinkingConfig")
        show = isinstance(thinking, dict) and thinking.get("includeThoughts") is True
        cache = CacheRequest(list(range(1, len(conv.messages) + 1)), explicit=False)
        modalities = (body.get("generationConfig") or {}).get("responseModalities") or ()
        return Parsed(model, stream, conv,
                      {"sse": req.query.get("alt") == "sse", "include_thoughts": show,
                       "cache": cache,
                       "image_output": isinstance(modalities, list) and "IMAGE" in modalities})

    def render_error(self, err: ApiError) -> bytes:
        error: dict[str, Any] = {
            "code": err.status,
            "message": err.message,
            "status": STATUS.get(err.status, "UNKNOWN"),
        }
        if err.details:
            error["details"] = err.details
        return orjson.dumps({"error": error})

    def server_error(self, status: int) -> ApiError:
        if status == 503:
            return ApiError(503, "overloaded", "The model is overloaded. Please try again later.")
        return ApiError(
            status,
            "server",
            "An internal error has occurred. Please retry or report "
            "in https://developers.generativeai.google/guide/troubleshooting",
        )

    def rate_limited(self, retry_after: int) -> ApiError:
        return ApiError(
            429,
            "rate_limit",
            "Resource has been exhausted (e.g. check quota).",
            headers=[("retry-after", str(retry_after))],
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": f"{retry_after}s",
                }
            ],
        )

    def unavailable(self) -> ApiError:
        return ApiError(503, "unavailable", "The service is currently unavailable.")

    def model_not_found(self, model: str) -> ApiError:
        return ApiError(
            404,
            "not_found",
            f"models/{model} is not found for API version v1beta, "
            "or is not supported for generateContent. Call ListModels to see the list "
            "of available models and their supported methods.",
        )

    def midstream_error(self) -> ApiError:
        return self.server_error(500)

    def response_headers(self, ctx: Context) -> list[tuple[str, str]]:
        return [("x-goog-request-id", ctx.request_id)]

    def response(self, ctx: Context, plan: Plan) -> dict[str, Any]:
        show = bool(ctx.options.get("include_thoughts"))
        parts = [p for seg in plan.segments if (p := _part(seg, show)) is not None]
        if plan.reasoning_tokens:
            _sign_first_answer(parts, ctx.request_id)
        parts += _images(plan)
        return _envelope(
            ctx,
            parts or [{"text": ""}],
            plan.prompt_tokens,
            plan.completion_tokens,
            FINISH[plan.finish],
            plan.reasoning_tokens,
            plan.cached_tokens,
        )

    def encoder(self, ctx: Context) -> GeminiEncoder:
        return GeminiEncoder(ctx)


def _images(plan: Plan) -> list[dict[str, Any]]:
    return [{"inlineData": {"mimeType": "image/png", "data": data}} for data in plan.images]


def _sign_first_answer(parts: list[dict[str, Any]], nonce: str) -> None:
    """Gemini puts the thought signature on the first part after the thoughts."""
    for part in parts:
        if not part.get("thought"):
            part["thoughtSignature"] = reasoning.thought_signature(nonce)
            return


def _part(seg: Segment, show_thoughts: bool = False) -> dict[str, Any] | None:
    if seg.kind == "thinking":
        return {"text": seg.text, "thought": True} if show_thoughts else None
    if seg.kind == "text":
        return {"text": seg.text}
    if not seg.complete:
        return None  # a call cut by max_tokens is dropped; finishReason says MAX_TOKENS
    return {"functionCall": {"name": seg.name, "args": orjson.loads(seg.text)}}


def _envelope(
    ctx: Context, parts: list[dict[str, Any]], prompt: int, completion: int, finish: str | None,
    thoughts: int = 0, cached: int = 0,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish is not None:
        candidate["finishReason"] = finish
    candidate["index"] = 0
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if cached:
        usage["cachedContentTokenCount"] = cached
    if completion - thoughts:
        usage["candidatesTokenCount"] = completion - thoughts
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    usage["totalTokenCount"] = prompt + completion
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": ctx.model,
        "responseId": ctx.request_id,
    }


class GeminiEncoder:
    """SSE with ``?alt=sse``; otherwise one JSON array written progressively."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.sse = bool(ctx.options.get("sse"))
        self.prompt = 0
        self.emitted = 0
        self.thoughts = 0
        self.signed = False
        self.first = True

    def _frame(self, obj: dict[str, Any]) -> bytes:
        data = orjson.dumps(obj)
        if self.sse:
            return b"data: " + data + b"\r\n\r\n"
        prefix = b"[" if self.first else b",\r\n"
        self.first = False
        return prefix + data

    def start(self, plan: Plan) -> bytes:
        self.prompt = plan.prompt_tokens
        return b""

    def segment_start(self, index: int, seg: Segment) -> bytes:
        return b""

    def _parts_frame(self, part: dict[str, Any]) -> bytes:
        if self.thoughts and not self.signed and not part.get("thought"):
            part["thoughtSignature"] = reasoning.thought_signature(self.ctx.request_id)
            self.signed = True
        return self._frame(
            _envelope(self.ctx, [part], self.prompt, self.emitted, None, self.thoughts)
        )

    def piece(self, index: int, seg: Segment, piece: str) -> bytes:
        self.emitted += 1
        if seg.kind == "thinking":
            self.thoughts += 1
            if not piece or not self.ctx.options.get("include_thoughts"):
                return b""
            return self._parts_frame({"text": piece, "thought": True})
        if seg.kind != "text" or not piece:
            return b""  # function calls arrive whole, never as partial JSON
        return self._parts_frame({"text": piece})

    def segment_end(self, index: int, seg: Segment) -> bytes:
        part = _part(seg) if seg.kind == "tool" else None
        if part is None:
            return b""
        return self._parts_frame(part)

    def finish(self, plan: Plan) -> bytes:
        out = self._frame(
            _envelope(
                self.ctx,
                _images(plan) or [{"text": ""}],
                plan.prompt_tokens,
                plan.completion_tokens,
                FINISH[plan.finish],
                plan.reasoning_tokens,
                plan.cached_tokens,
            )
        )
        return out if self.sse else out + b"]"

    def error(self, err: ApiError) -> bytes:
        body = GeminiFormat().render_error(err)
        if self.sse:
            return b"data: " + body + b"\r\n\r\n"
        return (b"[" if self.first else b",\r\n") + body + b"]"
