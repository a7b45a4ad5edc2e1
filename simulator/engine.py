"""Format-neutral core: a parsed conversation in, the planned answer out.

Each wire format parses its request into a ``Conversation``; ``plan()`` decides what the
"model" says. The answer depends only on (provider, model, conversation, tools, output
format, seed), never on ``stream``, ``max_tokens`` or ``stop``, so a streamed answer equals
the non-streamed one and a truncated answer is a prefix of the full one.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from simulator import reasoning, search
from simulator import schema as schema_gen
from simulator.text import count_tokens, generate_pieces, seed_from, split_tokens

# Fixed prompt cost of one image, whatever its size (documented in README).
IMAGE_TOKENS = 85
# Per-message framing cost, like the role markers of real chat templates.
MESSAGE_TOKENS = 3

# A prompt may ask for an exact answer length, e.g. "[sim:tokens=500]"; handy for tests
# that need a long stream without touching the provider's knobs.
DIRECTIVE_RE = re.compile(r"\[sim:tokens=(\d{1,6})\]")
# A question with a known answer, as quality probes ask it: the simulator does the sum.
SUM_RE = re.compile(r"What is (\d{1,9}) \+ (\d{1,9})\?")

Finish = Literal["stop", "length", "tool_calls", "stop_sequence"]
ToolChoice = Literal["auto", "none", "required", "tool"]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: Any


@dataclass
class ToolResult:
    ref: str  # the tool call id, or the function name in Gemini
    content: str


@dataclass
class Message:
    role: Literal["user", "assistant"]
    texts: list[str] = field(default_factory=list)
    images: int = 0
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)


@dataclass
class Tool:
    name: str
    description: str
    parameters: Any


@dataclass
class Conversation:
    system: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    forced_tool: str | None = None
    # Structured output: None = free text; {} = any JSON object; else a JSON schema.
    json_schema: Any = None
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    # Thinking budget in tokens (None = the model does not think before answering).
    thinking: int | None = None
    parallel_tools: bool = True
    # Thought signatures the client sent back (Gemini), in order: logged for tests.
    signatures: list[str] = field(default_factory=list)

    def prompt_tokens(self) -> int:
        total = sum(count_tokens(s) for s in self.system)
        for tool in self.tools:
            total += count_tokens(tool.name) + count_tokens(tool.description)
            total += count_tokens(orjson.dumps(tool.parameters).decode())
        for msg in self.messages:
            total += MESSAGE_TOKENS + IMAGE_TOKENS * msg.images
            total += sum(count_tokens(t) for t in msg.texts)
            for call in msg.tool_calls:
                total += count_tokens(call.name)
                total += count_tokens(orjson.dumps(call.arguments).decode())
            total += sum(count_tokens(r.content) for r in msg.tool_results)
        return total

    def fingerprint(self) -> list[Any]:
        return [
            self.system,
            [
                [
                    m.role,
                    m.texts,
                    m.images,
                    [[c.name, c.arguments] for c in m.tool_calls],
                    [r.content for r in m.tool_results],
                ]
                for m in self.messages
            ],
            [[t.name, t.parameters] for t in self.tools],
            self.tool_choice,
            self.forced_tool,
            self.json_schema,
            self.seed,
        ]


def prefix_tokens(conv: Conversation, end: int) -> int:
    """Prompt tokens of the system, the tools and the first `end` messages."""
    return Conversation(system=conv.system, messages=conv.messages[:end],
                        tools=conv.tools).prompt_tokens()


def prefix_fingerprint(conv: Conversation, end: int) -> list[Any]:
    return Conversation(system=conv.system, messages=conv.messages[:end],
                        tools=conv.tools).fingerprint()[:3]


@dataclass
class Segment:
    kind: Literal["text", "tool", "thinking"]
    pieces: list[str]
    name: str = ""
    call_id: str = ""
    # False when max_tokens cut the segment short.
    complete: bool = True

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass
class Plan:
    segments: list[Segment]
    finish: Finish
    prompt_tokens: int
    stop_sequence: str | None = None
    # Of the prompt tokens: read from the provider's prompt cache, and written to it.
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    # Images drawn (base64 PNG), when the request asked for image output; priced per image,
    # not counted in the completion tokens.
    images: list[str] = field(default_factory=list)

    @property
    def completion_tokens(self) -> int:
        return sum(len(s.pieces) for s in self.segments)

    def text(self) -> str:
        return "".join(s.text for s in self.segments if s.kind == "text")

    @property
    def reasoning_tokens(self) -> int:
        return sum(len(s.pieces) for s in self.segments if s.kind == "thinking")


def _uid(rng: random.Random, n: int = 24) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=n))


def _pick_tools(conv: Conversation, rng: random.Random) -> list[Tool]:
    """The tools to call this turn, in order: one, or several when the user asks for several
    things at once and parallel calls are allowed."""
    if conv.tool_choice == "tool" and conv.forced_tool:
        for tool in conv.tools:
            if tool.name == conv.forced_tool:
                return [tool]
    # Tools named in the last user text win, so tests can steer the choice.
    last_text = " ".join(conv.messages[-1].texts) if conv.messages else ""
    named = sorted((t for t in conv.tools if t.name in last_text),
                   key=lambda t: last_text.index(t.name))
    if not conv.parallel_tools:
        return [named[0] if named else rng.choice(conv.tools)]
    if len(named) >= 2:
        return named[: reasoning.MAX_PARALLEL]
    tool = named[0] if named else rng.choice(conv.tools)
    return [tool] * reasoning.parallel_count(last_text)


def wants_tool(conv: Conversation) -> bool:
    if not conv.tools or conv.tool_choice == "none":
        return False
    if conv.tool_choice in ("required", "tool"):
        return True
    last = conv.messages[-1] if conv.messages else None
    # After tool results the model reports back in words instead of calling again.
    return not (last and last.tool_results)


def plan(
    conv: Conversation,
    *,
    provider: str,
    model: str,
    length: tuple[int, int],
    text_before_tool: bool = False,
    degraded: bool = False,
    malformed: str | None = None,
) -> Plan:
    """`degraded` (the provider's `degraded_rate` dice): wrong sums, JSON cut short, tool-call
    arguments that are not JSON. `malformed` (the `malformed_json_rate` dice): JSON output
    spoilt in that way (see `malform`)."""
    rng = random.Random(seed_from(provider, model, conv.fingerprint()))
    segments: list[Segment] = []
    last_text = " ".join(conv.messages[-1].texts) if conv.messages else ""
    directive = DIRECTIVE_RE.search(last_text)
    n_text = int(directive.group(1)) if directive else rng.randint(length[0], length[1])

    if conv.thinking:
        # Its own dice: the answer is the same whether or not the model thought first.
        think_rng = random.Random(seed_from("thinking", provider, model, conv.fingerprint()))
        n_think = min(conv.thinking, think_rng.randint(24, 48))
        segments.append(Segment("thinking", generate_pieces(think_rng, n_think)))
    if wants_tool(conv):
        tools = _pick_tools(conv, rng)
        if text_before_tool and conv.tool_choice == "auto":
            segments.append(Segment("text", generate_pieces(rng, max(4, n_text // 4))))
        for tool in tools:
            args = schema_gen.generate(tool.parameters, rng)
            if not isinstance(args, dict):
                args = {}
            encoded = orjson.dumps(args).decode()
            segments.append(
                Segment(
                    "tool",
                    split_tokens(encoded[:-1] + ",}" if degraded else encoded),
                    name=tool.name,
                    call_id=_uid(rng),
                )
            )
        natural: Finish = "tool_calls"
    elif conv.json_schema is not None:
        target = conv.json_schema or {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
        }
        value = schema_gen.generate(target, rng)
        encoded = orjson.dumps(value).decode()
        if malformed:
            encoded = malform(encoded, malformed)
        segments.append(Segment("text", split_tokens(encoded[:-1] if degraded else encoded)))
        natural = "stop"
    elif (question := SUM_RE.search(last_text)) is not None:
        total = int(question.group(1)) + int(question.group(2)) + (1 if degraded else 0)
        segments.append(Segment("text", [str(total)]))
        natural = "stop"
    else:
        # With web search results in the prompt, the answer cites the first one.
        citation = search.cite(last_text)
        cited = split_tokens(citation) if citation else []
        segments.append(Segment("text", cited + generate_pieces(rng, n_text)))
        natural = "stop"

    return _limit(segments, natural, conv, conv.prompt_tokens())


def malform(encoded: str, kind: str) -> str:
    """JSON spoilt the ways models spoil it; the finish reason stays `stop` (a model that
    stopped early, not one cut by max_tokens)."""
    if kind == "truncated":
        return encoded[: max(2, len(encoded) * 2 // 3)]
    if kind == "trailing_text":
        return encoded + "\n\nI hope this helps! Let me know if you need anything else."
    if kind == "code_fence":
        return "Here is the JSON you asked for:\n```json\n" + encoded + "\n```"
    if kind == "single_quotes":
        # Generated strings hold no quotes of their own, so swapping them is Python's repr.
        return encoded.replace('"', "'")
    return encoded


def _limit(segments: list[Segment], natural: Finish, conv: Conversation, prompt: int) -> Plan:
    """Apply max_tokens and stop sequences, in generation order, to the planned output."""
    budget = conv.max_tokens
    stops = [s for s in conv.stop if s]
    longest = max((len(s) for s in stops), default=0)
    used = 0
    out: list[Segment] = []
    for seg in segments:
        kept: list[str] = []
        text = ""
        for piece in seg.pieces:
            if budget is not None and used >= budget:
                out.append(Segment(seg.kind, kept, seg.name, seg.call_id, complete=False))
                return Plan(out, "length", prompt)
            kept.append(piece)
            used += 1
            if seg.kind != "text" or not stops:
                continue
            start = max(0, len(text) - longest + 1)
            text += piece
            hits = [(text.find(s, start), s) for s in stops]
            hits = [(pos, s) for pos, s in hits if pos >= 0]
            if hits:
                pos, matched = min(hits)
                # The token that completed the stop sequence was generated (and billed)
                # but the sequence itself is not returned.
                _trim_tail(kept, text[:pos])
                out.append(Segment(seg.kind, kept, seg.name, seg.call_id))
                return Plan(out, "stop_sequence", prompt, stop_sequence=matched)
        out.append(Segment(seg.kind, kept, seg.name, seg.call_id))
    return Plan(out, natural, prompt)


def _trim_tail(pieces: list[str], keep: str) -> None:
    """Make ``"".join(pieces) == keep`` by trimming from the end, keeping the piece count."""
    total = "".join(pieces)
    excess = len(total) - len(keep)
    i = len(pieces) - 1
    while excess > 0 and i >= 0:
        take = min(excess, len(pieces[i]))
        pieces[i] = pieces[i][: len(pieces[i]) - take]
        excess -= take
        i -= 1
