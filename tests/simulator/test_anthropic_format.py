"""Anthropic Messages shapes: JSON, the SSE event sequence, tool_use / tool_result, images."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson

from simulator.text import count_tokens
from tests.simulator.conftest import (
    ANTHROPIC_HEADERS,
    PNG_B64,
    WEATHER_TOOL_SCHEMA,
    Sim,
    sse_events,
)

PATH = "/anthropic/v1/messages"
TOOLS = [{"name": "get_weather", "description": "Weather", "input_schema": WEATHER_TOOL_SCHEMA}]


def msg(content: Any = "Tell me about rivers", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": content}],
        **extra,
    }


def test_message_shape_and_usage(sim: Sim) -> None:
    r = sim.post(PATH, msg(system="Be brief."), headers=ANTHROPIC_HEADERS)
    assert r.status_code == 200
    assert r.headers["request-id"]
    body = r.json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["id"].startswith("msg_")
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    (block,) = body["content"]
    assert block["type"] == "text"
    usage = body["usage"]
    assert usage["output_tokens"] == count_tokens(block["text"])
    # the system prompt is counted, and is not a message (no framing cost)
    assert (
        usage["input_tokens"]
        == count_tokens("Be brief.") + count_tokens("Tell me about rivers") + 3
    )


def test_same_conversation_same_answer_across_formats_prompt_count(sim: Sim) -> None:
    """The prompt counts equal across formats for the same conversation."""
    a = sim.post(PATH, msg(), headers=ANTHROPIC_HEADERS).json()
    o = sim.post(
        "/openai/v1/chat/completions",
        {"model": "x", "messages": [{"role": "user", "content": "Tell me about rivers"}]},
    ).json()
    assert a["usage"]["input_tokens"] == o["usage"]["prompt_tokens"]


def test_max_tokens_and_stop_sequences(sim: Sim) -> None:
    full = sim.post(PATH, msg(), headers=ANTHROPIC_HEADERS).json()["content"][0]["text"]
    cut = sim.post(PATH, msg(max_tokens=4), headers=ANTHROPIC_HEADERS).json()
    assert cut["stop_reason"] == "max_tokens"
    assert cut["usage"]["output_tokens"] == 4
    assert full.startswith(cut["content"][0]["text"])

    word = full.split()[2]
    stopped = sim.post(PATH, msg(stop_sequences=[word, "zzzz"]), headers=ANTHROPIC_HEADERS).json()
    assert stopped["stop_reason"] == "stop_sequence"
    assert stopped["stop_sequence"] == word
    assert stopped["content"][0]["text"] == full[: full.index(word)]


def test_stream_event_sequence(sim: Sim) -> None:
    full = sim.post(PATH, msg(), headers=ANTHROPIC_HEADERS).json()
    r = sim.post(PATH, msg(stream=True), headers=ANTHROPIC_HEADERS)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [name for name, _ in events]
    data = [orjson.loads(d) for _, d in events]
    # the event name always repeats the payload's type
    assert all(name == d["type"] for name, d in zip(names, data, strict=True))
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    start = data[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == full["usage"]["input_tokens"]
    text = "".join(d["delta"]["text"] for d in data if d["type"] == "content_block_delta")
    assert text == full["content"][0]["text"]
    delta = data[-2]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] == full["usage"]["output_tokens"]


def test_tool_use_round_trip(sim: Sim) -> None:
    body = sim.post(PATH, msg("Weather in Paris?", tools=TOOLS), headers=ANTHROPIC_HEADERS).json()
    assert body["stop_reason"] == "tool_use"
    # with tool_choice auto Claude usually says something before calling the tool
    assert [b["type"] for b in body["content"]] == ["text", "tool_use"]
    tool_use = body["content"][1]
    assert tool_use["id"].startswith("toolu_") and tool_use["name"] == "get_weather"
    jsonschema.validate(tool_use["input"], WEATHER_TOOL_SCHEMA)

    forced = sim.post(
        PATH, msg("hi", tools=TOOLS, tool_choice={"type": "any"}), headers=ANTHROPIC_HEADERS
    ).json()
    assert [b["type"] for b in forced["content"]] == ["tool_use"]

    convo = msg(tools=TOOLS)
    convo["messages"] = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": body["content"]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_use["id"], "content": "18C and sunny"}
            ],
        },
    ]
    answer = sim.post(PATH, convo, headers=ANTHROPIC_HEADERS).json()
    assert answer["stop_reason"] == "end_turn"
    assert [b["type"] for b in answer["content"]] == ["text"]


def test_streamed_tool_use_input_json_delta(sim: Sim) -> None:
    body = msg("hi", tools=TOOLS, tool_choice={"type": "tool", "name": "get_weather"}, stream=True)
    events = [
        orjson.loads(d) for _, d in sse_events(sim.post(PATH, body, headers=ANTHROPIC_HEADERS).text)
    ]
    starts = [e for e in events if e["type"] == "content_block_start"]
    assert [s["content_block"]["type"] for s in starts] == ["tool_use"]
    assert starts[0]["content_block"]["input"] == {}
    partial = "".join(
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    )
    jsonschema.validate(orjson.loads(partial), WEATHER_TOOL_SCHEMA)
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_images(sim: Sim) -> None:
    def image(source: dict[str, Any]) -> dict[str, Any]:
        return msg([{"type": "image", "source": source}, {"type": "text", "text": "What?"}])

    ok = sim.post(
        PATH,
        image({"type": "base64", "media_type": "image/png", "data": PNG_B64}),
        headers=ANTHROPIC_HEADERS,
    )
    assert ok.status_code == 200
    assert ok.json()["usage"]["input_tokens"] == 2 + 3 + 85
    url = sim.post(
        PATH, image({"type": "url", "url": "https://example.com/a.png"}), headers=ANTHROPIC_HEADERS
    )
    assert url.status_code == 200

    for source in (
        {"type": "base64", "media_type": "image/bmp", "data": PNG_B64},
        {"type": "base64", "media_type": "image/png", "data": "%%%"},
        {"type": "base64", "media_type": "image/jpeg", "data": PNG_B64},
    ):
        r = sim.post(PATH, image(source), headers=ANTHROPIC_HEADERS)
        assert r.status_code == 400, source
        assert r.json()["type"] == "error"
        assert r.json()["error"]["type"] == "invalid_request_error"
        assert "messages.0.content.0.image.source" in r.json()["error"]["message"]
