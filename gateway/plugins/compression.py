"""Context compression, "middle-out" (reference §21.4): a prompt longer than the chosen
endpoint's context is shortened from the middle, keeping its start and its end.

Who asks for it: `transforms: ["middle-out"]` or the `context-compression` plugin (every
endpoint), or nobody, and then it is on for endpoints of at most 8,192 tokens of context, as
on OpenRouter; `transforms: []` or the plugin with `enabled: false` turns it off. It works per
endpoint, at each attempt: a fallback to an endpoint that holds the whole prompt sends it whole.
Routing (gateway/routing.py) keeps the endpoints compression can serve and tries the ones that
hold the prompt first; without compression a prompt that no endpoint holds is a 400
`context_length_exceeded` naming the model's largest context.

The measure is the gateway's tokenizer (gateway/streaming.py: a run of up to 8 word characters
or one symbol, exact for the local simulator and close to BPE for English), not the
request's byte-based upper bound: compressing against the upper bound would throw away far more
of the conversation than needed. A 5% margin covers tokenizers that count a little more.

What goes first: whole messages from the middle outwards (an assistant's tool calls leave with
their tool results, so the conversation stays valid), never the leading system/developer
messages nor the last message; if that is not enough, the middle of the longest remaining text.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from gateway.errors import GatewayError, bad_request
from gateway.request import IMAGE_TOKENS
from gateway.streaming import estimate_tokens

if TYPE_CHECKING:
    from gateway.catalog import Endpoint, Model
    from gateway.request import ChatRequest

JSON = dict[str, Any]
PLUGIN_ID = "context-compression"
TRANSFORM = "middle-out"
# Endpoints up to this context compress by default (reference §21.4).
DEFAULT_MAX_CONTEXT = 8192
# Framing tokens per message (role markers of chat templates).
MESSAGE_TOKENS = 4
MARGIN = 0.95
# An endpoint that cannot hold even this much prompt is not one compression can serve.
MIN_BUDGET = 64
MARKER = "\n\n[…]\n\n"
HEAD_ROLES = frozenset({"system", "developer"})
# The cheap test of whether default compression may matter: a prompt of at most this many
# bytes has at most this many tokens, which every chat endpoint of 4,096 tokens or more holds.
SMALL_PROMPT_BYTES = 2048


def mode(body: JSON) -> str | None:
    """"all" (asked for), "small" (the default: endpoints of ≤ 8,192 tokens) or None (off)."""
    plugins = body.get("plugins")
    if isinstance(plugins, list):
        for entry in plugins:
            if isinstance(entry, dict) and entry.get("id") == PLUGIN_ID:
                return None if entry.get("enabled") is False else "all"
    transforms = body.get("transforms")
    if transforms is not None:
        return "all" if isinstance(transforms, list) and TRANSFORM in transforms else None
    return "small"


def applies(how: str | None, model: "Model", endpoint: "Endpoint") -> bool:
    """May this endpoint get a compressed prompt? Never for models that only draw images."""
    if how is None or model.output_modalities == frozenset({"image"}):
        return False
    return how == "all" or endpoint.context_length <= DEFAULT_MAX_CONTEXT


def completion_reserve(endpoint: "Endpoint", max_tokens: int | None) -> int:
    """Room kept for the answer: what the client asked for, else a quarter of the context
    (at most the endpoint's own completion limit)."""
    if max_tokens:
        return max_tokens
    quarter = endpoint.context_length // 4
    limit = endpoint.max_completion_tokens
    return min(quarter, int(limit)) if limit else quarter


def budget(endpoint: "Endpoint", max_tokens: int | None) -> int:
    """The most prompt tokens to send this endpoint."""
    room = endpoint.context_length - completion_reserve(endpoint, max_tokens)
    if endpoint.max_prompt_tokens:
        room = min(room, int(endpoint.max_prompt_tokens))
    return int(room * MARGIN)


def feasible(endpoint: "Endpoint", max_tokens: int | None) -> bool:
    return budget(endpoint, max_tokens) >= MIN_BUDGET


# -- measuring ------------------------------------------------------------------------------

def _text_tokens(content: Any) -> int:
    if isinstance(content, str):
        return estimate_tokens(content)
    total = 0
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                total += estimate_tokens(part["text"])
            else:
                total += IMAGE_TOKENS
    return total


def message_tokens(msg: JSON) -> int:
    total = MESSAGE_TOKENS + _text_tokens(msg.get("content"))
    if msg.get("tool_calls"):
        total += estimate_tokens(orjson.dumps(msg["tool_calls"]).decode())
    return total


def fixed_tokens(body: JSON) -> int:
    """Prompt tokens outside the messages: tool definitions and a JSON schema."""
    total = 0
    for name in ("tools", "response_format"):
        if body.get(name):
            total += estimate_tokens(orjson.dumps(body[name]).decode())
    return total


def prompt_tokens(body: JSON) -> int:
    return fixed_tokens(body) + sum(message_tokens(m) for m in body.get("messages") or ())


# -- compressing ----------------------------------------------------------------------------

@dataclass
class Outcome:
    messages: list[JSON]
    before: int
    after: int
    removed: int  # whole messages removed
    truncated: bool  # the middle of one message cut out


def _units(messages: list[JSON]) -> list[list[int]]:
    """Indexes grouped so that tool results stay with the assistant message that called."""
    units: list[list[int]] = []
    for i, msg in enumerate(messages):
        if msg.get("role") == "tool" and units:
            units[-1].append(i)
        else:
            units.append([i])
    return units


def middle_out(messages: list[JSON], limit: int, extra: int = 0) -> Outcome | None:
    """The messages shortened to at most `limit` tokens (with `extra` tokens of tools and
    schema besides them), or None if they already fit. New lists and dicts: the client's
    messages are never changed in place."""
    sizes = [message_tokens(m) for m in messages]
    before = total = sum(sizes) + extra
    if total <= limit:
        return None
    units = _units(messages)
    head = 0
    while head < len(units) - 1 and messages[units[head][0]].get("role") in HEAD_ROLES:
        head += 1
    middle = units[head:-1]
    removed = 0
    # Drop from the centre outwards: what is left is the start and the end of the talk.
    while total > limit and middle:
        unit = middle.pop(len(middle) // 2)
        total -= sum(sizes[i] for i in unit)
        removed += len(unit)
    kept = [i for unit in units[:head] + middle + units[-1:] for i in unit]
    out = [messages[i] for i in kept]
    truncated = False
    if total > limit:
        total = _cut_longest(out, total - limit)
        truncated = True
    return Outcome(out, before, total, removed, truncated)


def _cut_longest(messages: list[JSON], excess: int) -> int:
    """Cut the middle out of the longest text until `excess` tokens are gone; the new total."""
    best = None
    best_tokens = -1
    for i, msg in enumerate(messages):
        content = msg.get("content")
        parts: list[tuple[int | None, str]] = []
        if isinstance(content, str):
            parts.append((None, content))
        elif isinstance(content, list):
            parts.extend((j, p["text"]) for j, p in enumerate(content) if isinstance(p, dict)
                         and p.get("type") == "text" and isinstance(p.get("text"), str))
        for j, text in parts:
            tokens = estimate_tokens(text or "")
            if tokens > best_tokens:
                best, best_tokens = (i, j, text or ""), tokens
    total_before = sum(message_tokens(m) for m in messages)
    if best is None:
        return total_before
    i, j, text = best
    target = max(0, best_tokens - excess - estimate_tokens(MARKER))
    cut = text
    keep = len(text) * target // max(1, best_tokens)
    # The character share is a first guess; shrink until the token count is under target.
    for _ in range(8):
        half = keep // 2
        cut = text[:half] + MARKER + text[len(text) - half:] if half else MARKER.strip()
        if estimate_tokens(cut) <= max(target, 1) + estimate_tokens(MARKER) or not half:
            break
        keep = keep * 9 // 10
    msg = dict(messages[i])
    if j is None:
        msg["content"] = cut
    else:
        msg["content"] = [dict(p, text=cut) if k == j else p
                          for k, p in enumerate(msg["content"])]
    messages[i] = msg
    return sum(message_tokens(m) for m in messages)


def compress(body: JSON, endpoint: "Endpoint", max_tokens: int | None) -> Outcome | None:
    """The messages to send this endpoint, or None when the prompt fits as it is."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    return middle_out(messages, budget(endpoint, max_tokens), fixed_tokens(body))


def context_exceeded(model: "Model", prompt_estimate: int) -> GatewayError:
    """Reference §2: the prompt fits no endpoint and nothing may compress it."""
    largest = max((e.context_length for e in model.endpoints), default=model.context_length)
    return GatewayError(
        400,
        f"This endpoint's maximum context length is {largest} tokens. However, you requested "
        f"about {prompt_estimate} tokens. Please reduce the length of the messages, or use "
        'the "middle-out" transform (transforms: ["middle-out"]) to compress your prompt '
        "automatically.",
        {"error_type": "context_length_exceeded", "model": model.id,
         "max_context_length": largest, "requested_tokens": prompt_estimate},
    )


def engine_option(options: JSON) -> str:
    engine = options.get("engine", TRANSFORM)
    if engine != TRANSFORM:
        raise bad_request(f"'plugins[{PLUGIN_ID}].engine' must be \"{TRANSFORM}\"")
    return TRANSFORM


def small_prompt(req: "ChatRequest") -> bool:
    """True when default compression cannot matter for this request (the fast path)."""
    return (req.prompt_bound or req.prompt_tokens * 3) <= SMALL_PROMPT_BYTES


# -- the plugin -----------------------------------------------------------------------------

from gateway.plugins import Context, Plugin, register_implicit  # noqa: E402


@register_implicit
class ContextCompression(Plugin):
    """`context-compression` / `transforms: ["middle-out"]`, and the default for small
    endpoints. Runs after the plugins that add to the prompt (files, search results)."""

    id = PLUGIN_ID
    order = 80

    def __init__(self, options: JSON) -> None:
        super().__init__(options)
        engine_option(options)
        # Implicit (not named): only endpoints of <= 8,192 tokens compress.
        self.how = "small" if options.get("default") else "all"

    @classmethod
    def implicit(cls, req: "ChatRequest") -> JSON | None:
        if "transforms" in req.body or small_prompt(req):
            return None
        return {"default": True}

    async def before(self, ctx: Context) -> None:
        assert ctx.model is not None and ctx.endpoint is not None
        done = None
        if applies(self.how, ctx.model, ctx.endpoint):
            done = compress(ctx.body, ctx.endpoint, ctx.req.max_tokens)
        if done is not None:
            ctx.body["messages"] = done.messages
        # Per attempt: a fallback that sends the whole prompt reports no compression.
        ctx.stage("context_compression", None if done is None else {
            "name": TRANSFORM,
            "summary": f"{done.before} -> {done.after} prompt tokens to fit "
                       f"{ctx.endpoint.context_length}",
            "data": {"original_tokens": done.before, "compressed_tokens": done.after,
                     "removed_messages": done.removed, "truncated_message": done.truncated,
                     "context_length": ctx.endpoint.context_length},
        })
        if done is None:
            ctx.event_fields.pop("context_compression", None)
        else:
            ctx.event_fields["context_compression"] = {
                "original_tokens": done.before, "compressed_tokens": done.after}
