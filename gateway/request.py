"""The client's request: parsed, type-checked, and measured (prompt size estimate).

Only what the gateway relies on is checked; unknown fields are tolerated, as OpenRouter does.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway import reasoning
from gateway.errors import bad_request

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
# A rough upper estimate for reservations and context checks: ~3 characters per token,
# and an image counted as a large tile (providers charge 85 to ~1,600 tokens per image).
CHARS_PER_TOKEN = 3
IMAGE_TOKENS = 1024
# Tokens a provider may add around the whole prompt (a system preamble, the reply's header).
PROMPT_MARGIN = 16
NUMBERS = ("temperature", "top_p", "top_k", "min_p", "top_a", "frequency_penalty",
           "presence_penalty", "repetition_penalty")
INTEGERS = ("seed", "top_logprobs")


@dataclass
class ChatRequest:
    body: dict[str, Any]
    models: list[str]
    stream: bool
    max_tokens: int | None
    prompt_tokens: int  # an estimate, for reporting when the upstream reports no usage
    images: int
    provider: dict[str, Any] = field(default_factory=dict)
    # The most prompt tokens any endpoint can count for this request (bytes of the text, tools
    # and schema, a margin per message, a generous count per image): what the hold prices.
    prompt_bound: int = 0
    legacy: bool = False
    # The file parts, read and parsed (gateway/plugins/files.py: read_files, FileInput).
    files: list[Any] = field(default_factory=list)


def _server_tool(tool: dict[str, Any]) -> bool:
    """A tool the gateway runs itself (gateway/plugins/web.py), not a function."""
    kind = tool.get("type")
    return isinstance(kind, str) and kind.startswith(("openrouter:", "web_search"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _measure_content(content: Any, where: str) -> tuple[int, int]:
    """(UTF-8 bytes of text, images) of a message content; raises 400 on a wrong shape.

    Bytes, not characters: no tokenizer makes more tokens of a text than it has bytes, so they
    bound the prompt from above (see ChatRequest.prompt_bound)."""
    if content is None:
        return 0, 0
    if isinstance(content, str):
        return len(content.encode()), 0
    if not isinstance(content, list):
        raise bad_request(f"{where}.content must be a string or an array of content parts")
    chars = images = 0
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise bad_request(f"{where}.content[{j}] must be an object with a 'type'")
        kind = part["type"]
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise bad_request(f"{where}.content[{j}].text must be a string")
            chars += len(part["text"].encode())
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str) or not url:
                raise bad_request(f"{where}.content[{j}].image_url.url must be a URL or data URI")
            images += 1
        else:
            images += 1  # audio, files, video: priced like media
    return chars, images


def _messages(messages: Any) -> tuple[int, int]:
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty array of messages")
    chars = images = 0
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise bad_request(f"{where} must be an object")
        role = msg.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise bad_request(
                f"{where}.role must be one of system, developer, user, assistant, tool"
            )
        c, n = _measure_content(msg.get("content"), where)
        chars += c + 8
        images += n
        calls = msg.get("tool_calls")
        if calls is not None:
            if not isinstance(calls, list) or not all(
                isinstance(c, dict) and isinstance(c.get("function"), dict) for c in calls
            ):
                raise bad_request(f"{where}.tool_calls must be an array of function calls")
            chars += sum(len(orjson.dumps(c)) for c in calls)
        if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
            raise bad_request(f"{where}.tool_call_id is required for tool messages")
    return chars, images


def json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or the 400 every surface gives for anything else."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    return body


def parse(raw: bytes, *, legacy: bool = False) -> ChatRequest:
    body = json_object(raw)
    if legacy:
        prompt = body.get("prompt")
        if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
            prompt = "".join(prompt)
        if not isinstance(prompt, str):
            raise bad_request("'prompt' must be a string or an array of strings")
        body["messages"] = [{"role": "user", "content": prompt}]
    chars, images = _messages(body.get("messages"))

    model = body.get("model")
    extra = body.get("models")
    if model is not None and not isinstance(model, str):
        raise bad_request("'model' must be a string")
    if extra is not None and not (
        isinstance(extra, list) and all(isinstance(m, str) for m in extra)
    ):
        raise bad_request("'models' must be an array of model ids")
    models = list(dict.fromkeys(([model] if model else []) + (extra or [])))
    if not models:
        raise bad_request("'model' is required: see GET /api/v1/models for model ids")

    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise bad_request("'stream' must be a boolean")
    max_tokens = body.get("max_completion_tokens")
    if max_tokens is None:
        max_tokens = body.get("max_tokens")
    if max_tokens is not None and (not _is_int(max_tokens) or max_tokens < 1):
        raise bad_request("'max_tokens' must be a positive integer")
    for name in NUMBERS:
        if body.get(name) is not None and not _is_number(body[name]):
            raise bad_request(f"'{name}' must be a number")
    for name in INTEGERS:
        if body.get(name) is not None and not _is_int(body[name]):
            raise bad_request(f"'{name}' must be an integer")
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str) and not (
        isinstance(stop, list) and all(isinstance(s, str) for s in stop)
    ):
        raise bad_request("'stop' must be a string or an array of strings")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or not all(
            isinstance(t, dict) and ((isinstance(t.get("function"), dict)
                                      and isinstance(t["function"].get("name"), str))
                                     or _server_tool(t))
            for t in tools
        ):
            raise bad_request("'tools' must be an array of {type: 'function', function: {name}}")
        chars += len(orjson.dumps(tools))
    choice = body.get("tool_choice")
    if choice is not None and choice not in ("none", "auto", "required") and not (
        isinstance(choice, dict) and isinstance(choice.get("function"), dict)
    ):
        raise bad_request("'tool_choice' must be none, auto, required or a function")
    response_format = body.get("response_format")
    if response_format is not None and not (
        isinstance(response_format, dict) and isinstance(response_format.get("type"), str)
    ):
        raise bad_request("'response_format' must be an object with a 'type'")
    if "reasoning" in body or "reasoning_effort" in body:
        reasoning.validate(body)
    provider = body.get("provider")
    if provider is not None and not isinstance(provider, dict):
        raise bad_request("'provider' must be an object")
    return ChatRequest(
        body=body,
        models=models,
        stream=bool(stream),
        max_tokens=max_tokens,
        prompt_tokens=chars // CHARS_PER_TOKEN + 1 + images * IMAGE_TOKENS,
        images=images,
        prompt_bound=chars + images * IMAGE_TOKENS + PROMPT_MARGIN
        + (len(orjson.dumps(response_format)) if response_format else 0),
        provider=provider or {},
        legacy=legacy,
    )
