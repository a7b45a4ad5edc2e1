"""OpenAI Chat Completions: ``POST /v1/chat/completions``."""

from __future__ import annotations

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
    decode_base64,
    image_matches,
    json_type,
    parse_data_uri,
)
from simulator.knobs import Knobs

_KNOWN = (
    "model messages audio frequency_penalty function_call functions logit_bias logprobs "
    "max_completion_tokens max_tokens metadata modalities n parallel_tool_calls "
    "prediction presence_penalty prompt_cache_key reasoning_effort response_format "
    "safety_identifier seed service_tier stop store stream stream_options temperature "
    "tool_choice tools top_logprobs top_p user verbosity web_search_options"
)
KNOWN_PARAMS = frozenset(_KNOWN.split())
# Accepted by vLLM/SGLang-style hosts (deepinfra, together, fireworks, ...) but not OpenAI.
OPEN_MODEL_PARAMS = frozenset(
    ["top_k", "min_p", "top_a", "repetition_penalty", "length_penalty", "min_tokens", "reasoning"]
)
STRICT_BY_DEFAULT = frozenset({"openai", "azure"})
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = ("text", "image_url", "input_audio", "refusal", "audio", "file")
TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length", "tool_calls": "tool_calls"}


def bad(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, param=param, code=code)


def _bad_type(param: str, expected: str, value: Any) -> ApiError:
    return bad(
        f"Invalid type for '{param}': expected {expected}, but got {_article(value)} instead.",
        param,
        "invalid_type",
    )


def _article(value: Any) -> str:
    kind = json_type(value)
    kind = {"object": "an object", "array": "an array", "integer": "an integer"}.get(
        kind, f"a {kind}"
    )
    return kind


def _number(body: dict[str, Any], name: str, lo: float, hi: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad_type(name, "a decimal", value)
    if value < lo:
        raise bad(
            f"Invalid '{name}': decimal below minimum value. Expected a value >= {lo:g}, "
            f"but got {value} instead.",
            name,
            "decimal_below_min_value",
        )
    if value > hi:
        raise bad(
            f"Invalid '{name}': decimal above maximum value. Expected a value <= {hi:g}, "
            f"but got {value} instead.",
            name,
            "decimal_above_max_value",
        )


def _int_at_least(body: dict[str, Any], name: str, lo: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_type(name, "an integer", value)
    if value < lo:
        raise bad(
            f"Invalid '{name}': integer below minimum value. Expected a value >= {lo}, "
            f"but got {value} instead.",
            name,
            "integer_below_min_value",
        )
    return value


def _text_of(content: Any, where: str, allow: tuple[str, ...] = ("text",)) -> list[str]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise _bad_type(where, "one of a string or array of objects", content)
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in allow:
            raise bad(
                f"Invalid value: '{part.get('type') if isinstance(part, dict) else part}'. "
                f"Supported values are: 'text'.",
                f"{where}[{j}].type",
                "invalid_value",
            )
        texts.append(str(part.get("text", "")))
    return texts


def _check_image(url: Any, where: str) -> None:
    if not isinstance(url, str) or not url:
        raise bad(f"Missing required parameter: '{where}'.", where, "missing_required_parameter")
    if url.startswith(("https://", "http://")):
        return
    parsed = parse_data_uri(url)
    if parsed is None:
        raise bad(
            f"Invalid '{where}'. Expected a base64-encoded data URL with an image MIME type "
            "(e.g. 'data:image/png;base64,...'), but got a value without the 'data:' prefix.",
            where,
            "invalid_value",
        )
    media_type, data = parsed
    raw = decode_base64(data)
    if media_type not in IMAGE_TYPES or raw is None or not image_matches(media_type, raw):
        raise bad(
            "You uploaded an unsupported image. Please make sure your image is valid and has "
            "one of the following formats: ['png', 'jpeg', 'gif', 'webp'].",
            None,
            "invalid_image_format",
        )


def _user_message(msg: dict[str, Any], where: str) -> Message:
    content = msg.get("content")
    out = Message("user")
    if isinstance(content, str):
        out.texts.append(content)
        return out
    if not isinstance(content, list):
        raise _bad_type(f"{where}.content", "one of a string or array of objects", content)
    if not content:
        raise bad(
            f"Invalid '{where}.content': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            f"{where}.content",
            "empty_array",
        )
    for j, part in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in PART_TYPES or not isinstance(part, dict):
            raise bad(
                f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url', "
                "'input_audio', 'refusal', 'audio', and 'file'.",
                f"{at}.type",
                "invalid_value",
            )
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise bad(
                    f"Missing required parameter: '{at}.text'.",
                    f"{at}.text",
                    "missing_required_parameter",
                )
            out.texts.append(part["text"])
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else None
            _check_image(url, f"{at}.image_url.url")
            out.images += 1
        else:
            # Audio and files are accepted and priced like an image.
            out.images += 1
    return out


def _assistant_message(msg: dict[str, Any], where: str) -> Message:
    out = Message("assistant")
    content = msg.get("content")
    calls = msg.get("tool_calls")
    if content is None and not calls and not msg.get("function_call"):
        raise bad(
            f"Missing required parameter: '{where}.content'.",
            f"{where}.content",
            "missing_required_parameter",
        )
    if content is not None:
        out.texts = _text_of(content, f"{where}.content", ("text", "refusal"))
    if calls is not None:
        if not isinstance(calls, list):
            raise _bad_type(f"{where}.tool_calls", "an array", calls)
        for k, call in enumerate(calls):
            at = f"{where}.tool_calls[{k}]"
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(call, dict) or not isinstance(call.get("id"), str):
                raise bad(
                    f"Missing required parameter: '{at}.id'.",
                    f"{at}.id",
                    "missing_required_parameter",
                )
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                raise bad(
                    f"Missing required parameter: '{at}.function'.",
                    f"{at}.function",
                    "missing_required_parameter",
                )
            args = fn.get("arguments")
            if not isinstance(args, str):
                raise _bad_type(f"{at}.function.arguments", "a string", args)
            try:
                parsed_args: Any = orjson.loads(args) if args else {}
            except orjson.JSONDecodeError:
                parsed_args = args
            out.tool_calls.append(ToolCall(call["id"], fn["name"], parsed_args))
    return out


def _conversation(body: dict[str, Any]) -> Conversation:
    conv = Conversation()
    if "messages" not in body:
        raise bad(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    messages = body["messages"]
    if not isinstance(messages, list):
        raise _bad_type("messages", "an array of objects", messages)
    if not messages:
        raise bad(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            "messages",
            "empty_array",
        )
    pending: dict[str, str] = {}  # tool call id -> name, awaiting a tool message
    pending_at = -1
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise _bad_type(where, "an object", msg)
        role = msg.get("role")
        if role is None:
            raise bad(
                f"Missing required parameter: '{where}.role'.",
                f"{where}.role",
                "missing_required_parameter",
            )
        if role not in ROLES:
            raise bad(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                "'function', 'tool', and 'developer'.",
                f"{where}.role",
                "invalid_value",
            )
        if role != "tool" and pending:
            raise bad(
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(pending)}",
                f"messages.[{pending_at}].role",
            )
        if role in ("system", "developer"):
            if "content" not in msg:
                raise bad(
                    f"Missing required parameter: '{where}.content'.",
                    f"{where}.content",
                    "missing_required_parameter",
                )
            conv.system.extend(_text_of(msg["content"], f"{where}.content"))
        elif role == "user":
            if "content" not in msg:
                raise bad(
                    f"Missing required parameter: '{where}.content'.",
                    f"{where}.content",
                    "missing_required_parameter",
                )
            conv.messages.append(_user_message(msg, where))
        elif role == "assistant":
            out = _assistant_message(msg, where)
            conv.messages.append(out)
            pending = {c.id: c.name for c in out.tool_calls}
            pending_at = i
        elif role == "tool":
            call_id = msg.get("tool_call_id")
            if not isinstance(call_id, str):
                raise bad(
                    f"Missing required parameter: '{where}.tool_call_id'.",
                    f"{where}.tool_call_id",
                    "missing_required_parameter",
                )
            prev = conv.messages[-1] if conv.messages else None
            if prev is None or not (prev.tool_calls or prev.tool_results):
                raise bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            if call_id not in pending:
                raise bad(
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                    "'tool_calls' of previous message.",
                    f"messages.[{i}].tool_call_id",
                )
            del pending[call_id]
            content = "".join(_text_of(msg.get("content", ""), f"{where}.content"))
            if prev.role != "user" or not prev.tool_results:
                prev = Message("user")
                conv.messages.append(prev)
            prev.tool_results.append(ToolResult(call_id, content))
        else:  # legacy "function" role: a result matched by name
            content = "".join(_text_of(msg.get("content") or "", f"{where}.content"))
            conv.messages.append(
                Message("user", tool_results=[ToolResult(str(msg.get("name")), content)])
            )
    if pending:
        raise bad(
            "An assistant message with 'tool_calls' must be followed by tool messages "
            "responding to each 'tool_call_id'. The following tool_call_ids did not have "
            f"response messages: {', '.join(pending)}",
            f"messages.[{pending_at}].role",
        )
    return conv


def _tools(body: dict[str, Any], conv: Conversation) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad_type("tools", "an array", tools)
        for i, tool in enumerate(tools):
            fn = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(tool, dict) or tool.get("type") != "function":
                raise bad(
                    f"Invalid value: '{tool.get('type') if isinstance(tool, dict) else tool}'. "
                    "Supported values are: 'function' and 'custom'.",
                    f"tools[{i}].type",
                    "invalid_value",
                )
            if not isinstance(fn, dict) or "name" not in fn:
                raise bad(
                    f"Missing required parameter: 'tools[{i}].function'.",
                    f"tools[{i}].function",
                    "missing_required_parameter",
                )
            name = fn["name"]
            if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
                raise bad(
                    f"Invalid 'tools[{i}].function.name': string does not match pattern. "
                    "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                    f"tools[{i}].function.name",
                    "invalid_value",
                )
            params = fn.get("parameters", {"type": "object", "properties": {}})
            if not isinstance(params, dict):
                raise _bad_type(f"tools[{i}].function.parameters", "an object", params)
            conv.tools.append(Tool(name, str(fn.get("description", "")), params))

    choice = body.get("tool_choice")
    if choice is None:
        return
    if not conv.tools:
        raise bad(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            "tool_choice",
        )
    if choice in ("none", "auto", "required"):
        conv.tool_choice = choice
        return
    fn = choice.get("function") if isinstance(choice, dict) else None
    name = fn.get("name") if isinstance(fn, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not name:
        raise bad(
            "Invalid value for 'tool_choice': expected one of 'none', 'auto', 'required' or an "
            "object naming a function.",
            "tool_choice",
            "invalid_value",
        )
    if name not in {t.name for t in conv.tools}:
        raise bad(
            f"Invalid value for 'tool_choice': no function named '{name}' was specified in the "
            "'tools' parameter.",
            "tool_choice",
        )
    conv.tool_choice = "tool"
    conv.forced_tool = name


def _response_format(body: dict[str, Any], conv: Conversation, messages: Any) -> None:
    fmt = body.get("response_format")
    if fmt is None:
        return
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return
    if kind == "json_object":
        if "json" not in orjson.dumps(messages).decode().lower():
            raise bad(
                "'messages' must contain the word 'json' in some form, to use 'response_format' "
                "of type 'json_object'.",
                "messages",
            )
        conv.json_schema = {}
        return
    if kind == "json_schema":
        spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise bad(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
                "missing_required_parameter",
            )
        schema = spec.get("schema", {"type": "object"})
        if not isinstance(schema, dict):
            raise _bad_type("response_format.json_schema.schema", "an object", schema)
        conv.json_schema = schema or {"type": "object"}
        return
    raise bad(
        f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
        "response_format.type",
        "invalid_value",
    )


def _reasoning(body: dict[str, Any], conv: Conversation) -> None:
    """`reasoning_effort` (OpenAI) or the `reasoning` object of open hosts -> a budget."""
    effort = body.get("reasoning_effort")
    if effort is not None:
        if effort not in ("none", *reasoning.EFFORT_BUDGET):
            raise bad(f"Invalid value: '{effort}'. Supported values are: 'none', 'minimal', "
                      "'low', 'medium', 'high' and 'xhigh'.", "reasoning_effort",
                      "invalid_value")
        conv.thinking = reasoning.budget_for_effort(effort)
    spec = body.get("reasoning")
    if isinstance(spec, dict) and spec.get("enabled") is not False:
        budget = spec.get("max_tokens")
        if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0:
            conv.thinking = budget
        elif spec.get("effort") is not None:
            conv.thinking = reasoning.budget_for_effort(spec.get("effort"))
        else:
            conv.thinking = reasoning.EFFORT_BUDGET["medium"]


class OpenAIFormat:
    name = "openai"
    stream_content_type = "text/event-stream; charset=utf-8"
    text_before_tool = False

    def check_auth(self, req: Request, knobs: Knobs) -> None:
        if knobs.api_key is None:
            return
        header = req.headers.get("authorization", "")
        if not header:
            raise ApiError(
                401,
                "auth",
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if header != f"Bearer {knobs.api_key}":
            shown = header.removeprefix("Bearer ")[:6]
            raise ApiError(
                401,
                "auth",
                f"Incorrect API key provided: {shown}***. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    def parse(self, req: Request, knobs: Knobs) -> Parsed:
        try:
            body = orjson.loads(req.body)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            raise bad(
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
                "but what was sent was not valid JSON.)"
            )
        strict = knobs.strict_params
        if strict is None:
            strict = req.provider in STRICT_BY_DEFAULT
        allowed = KNOWN_PARAMS if strict else KNOWN_PARAMS | OPEN_MODEL_PARAMS
        for key in body:
            if key not in allowed:
                raise bad(f"Unrecognized request argument supplied: {key}")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise bad("you must provide a model parameter")

        conv = _conversation(body)
        _tools(body, conv)
        _response_format(body, conv, body["messages"])
        _number(body, "temperature", 0, 2)
        _number(body, "top_p", 0, 1)
        _number(body, "frequency_penalty", -2, 2)
        _number(body, "presence_penalty", -2, 2)
        n = _int_at_least(body, "n", 1)
        if n is not None and n > 1:
            raise bad("simulator: only n=1 is supported", "n", "unsupported_value")
        max_tokens = _int_at_least(body, "max_completion_tokens", 1)
        legacy = _int_at_least(body, "max_tokens", 1)
        if max_tokens is not None and legacy is not None:
            raise bad("max_tokens and max_completion_tokens cannot both be set.", "max_tokens")
        conv.max_tokens = max_tokens if max_tokens is not None else legacy
        stop = body.get("stop")
        if isinstance(stop, str):
            conv.stop = [stop]
        elif isinstance(stop, list):
            if len(stop) > 4:
                raise bad(
                    "Invalid 'stop': array too long. Expected an array with maximum length 4, "
                    f"but got an array with length {len(stop)} instead.",
                    "stop",
                    "array_above_max_length",
                )
            if not all(isinstance(s, str) for s in stop):
                raise _bad_type("stop", "an array of strings", stop)
            conv.stop = list(stop)
        elif stop is not None:
            raise _bad_type("stop", "one of a string or array of strings", stop)
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise _bad_type("seed", "an integer", seed)
        conv.seed = seed

        stream = body.get("stream", False)
        if not isinstance(stream, bool) and stream is not None:
            raise _bad_type("stream", "a boolean", stream)
        options = body.get("stream_options")
        if options is not None and not stream:
            raise bad(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
            )
        include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
        modalities = body.get("modalities")
        if modalities is not None and not (isinstance(modalities, list) and all(
                m in ("text", "image", "audio") for m in modalities)):
            raise _bad_type("modalities", "an array of 'text', 'image' or 'audio'", modalities)
        _reasoning(body, conv)
        if body.get("parallel_tool_calls") is False:
            conv.parallel_tools = False
        # OpenAI itself never returns reasoning text (only its token count); open hosts do.
        hidden = req.provider in STRICT_BY_DEFAULT
        # OpenAI caches long prompts by itself, at every message boundary.
        cache = CacheRequest(list(range(1, len(conv.messages) + 1)), explicit=False)
        return Parsed(model, bool(stream), conv,
                      {"include_usage": include_usage, "hidden_reasoning": hidden,
                       "cache": cache, "image_output": "image" in (modalities or ())})

    def render_error(self, err: ApiError) -> bytes:
        kind = {
            "invalid_request": "invalid_request_error",
            "auth": "invalid_request_error",
            "not_found": "invalid_request_error",
            "rate_limit": "requests",
        }.get(err.kind, "server_error")
        return orjson.dumps(
            {"error": {"message": err.message, "type": kind, "param": err.param, "code": err.code}}
        )

    def server_error(self, status: int) -> ApiError:
        if status == 503:
            return ApiError(
                503, "overloaded", "The engine is currently overloaded, please try again later."
            )
        return ApiError(
            status,
            "server",
            "The server had an error while processing your request. Sorry about that!",
        )

    def rate_limited(self, retry_after: int) -> ApiError:
        return ApiError(
            429,
            "rate_limit",
            f"Rate limit reached for requests. Please try again in {retry_after}s.",
            code="rate_limit_exceeded",
            headers=[
                ("retry-after", str(retry_after)),
                ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", f"{retry_after}s"),
            ],
        )

    def unavailable(self) -> ApiError:
        return ApiError(503, "unavailable", "Service Unavailable.")

    def model_not_found(self, model: str) -> ApiError:
        return ApiError(
            404,
            "not_found",
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )

    def midstream_error(self) -> ApiError:
        return self.server_error(500)

    def response_headers(self, ctx: Context) -> list[tuple[str, str]]:
        return [("x-request-id", ctx.request_id), ("openai-model", ctx.model)]

    def response(self, ctx: Context, plan: Plan) -> dict[str, Any]:
        text_segments = [s for s in plan.segments if s.kind == "text"]
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(s.text for s in text_segments) if text_segments else None,
            "refusal": None,
            "annotations": [],
        }
        calls = [_tool_call(s) for s in plan.segments if s.kind == "tool"]
        if calls:
            message["tool_calls"] = calls
        thinking = "".join(s.text for s in plan.segments if s.kind == "thinking")
        if thinking and not ctx.options.get("hidden_reasoning"):
            message["reasoning_content"] = thinking
        if plan.images:
            # As OpenAI-compatible image hosts (and OpenRouter) return them.
            message["images"] = _images(plan)
        return {
            "id": ctx.request_id,
            "object": "chat.completion",
            "created": ctx.created,
            "model": ctx.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": FINISH[plan.finish],
                }
            ],
            "usage": _usage(plan),
            "service_tier": "default",
            "system_fingerprint": "fp_simulator",
        }

    def encoder(self, ctx: Context) -> OpenAIEncoder:
        return OpenAIEncoder(ctx)


def _images(plan: Plan) -> list[dict[str, Any]]:
    return [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}
            for data in plan.images]


def _tool_call(seg: Segment) -> dict[str, Any]:
    return {
        "id": f"call_{seg.call_id}",
        "type": "function",
        "function": {"name": seg.name, "arguments": seg.text},
    }


def _usage(plan: Plan) -> dict[str, Any]:
    prompt, completion = plan.prompt_tokens, plan.completion_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": plan.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": plan.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class OpenAIEncoder:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.include_usage = bool(ctx.options.get("include_usage"))
        self.role_sent = False
        self.tool_index = -1
        self.emitted = 0

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.ctx.request_id,
            "object": "chat.completion.chunk",
            "created": self.ctx.created,
            "model": self.ctx.model,
            "service_tier": "default",
            "system_fingerprint": "fp_simulator",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self.include_usage:
            chunk["usage"] = None
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def start(self, plan: Plan) -> bytes:
        return b""

    def segment_start(self, index: int, seg: Segment) -> bytes:
        delta: dict[str, Any] = {}
        if not self.role_sent:
            delta = {"role": "assistant", "content": "" if seg.kind == "text" else None}
            delta["refusal"] = None
            self.role_sent = True
        if seg.kind == "tool":
            self.tool_index += 1
            delta["tool_calls"] = [
                {
                    "index": self.tool_index,
                    "id": f"call_{seg.call_id}",
                    "type": "function",
                    "function": {"name": seg.name, "arguments": ""},
                }
            ]
        return self._chunk(delta) if delta else b""

    def piece(self, index: int, seg: Segment, piece: str) -> bytes:
        self.emitted += 1
        if not piece:
            return b""
        if seg.kind == "text":
            return self._chunk({"content": piece})
        if seg.kind == "thinking":
            if self.ctx.options.get("hidden_reasoning"):
                return b""
            return self._chunk({"reasoning_content": piece})
        return self._chunk(
            {"tool_calls": [{"index": self.tool_index, "function": {"arguments": piece}}]}
        )

    def segment_end(self, index: int, seg: Segment) -> bytes:
        return b""

    def finish(self, plan: Plan) -> bytes:
        out = self._chunk({"images": _images(plan)}) if plan.images else b""
        out += self._chunk({}, FINISH[plan.finish])
        if self.include_usage:
            chunk = {
                "id": self.ctx.request_id,
                "object": "chat.completion.chunk",
                "created": self.ctx.created,
                "model": self.ctx.model,
                "service_tier": "default",
                "system_fingerprint": "fp_simulator",
                "choices": [],
                "usage": _usage(plan),
            }
            out += b"data: " + orjson.dumps(chunk) + b"\n\n"
        return out + b"data: [DONE]\n\n"

    def error(self, err: ApiError) -> bytes:
        return b"data: " + OpenAIFormat().render_error(err) + b"\n\n"
