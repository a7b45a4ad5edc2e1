"""OpenAI Chat Completions shapes: JSON, SSE, usage, tools, structured output, images."""

from __future__ import annotations

import jsonschema
import orjson

from simulator.text import count_tokens
from tests.simulator.conftest import PNG_B64, WEATHER_TOOL_SCHEMA, Sim, sse_events, sse_json

PATH = "/deepinfra/v1/chat/completions"


def chat(content: str = "Tell me about rivers", **extra: object) -> dict[str, object]:
    return {
        "model": "meta-llama/llama-3.1-8b",
        "messages": [{"role": "user", "content": content}],
        **extra,
    }


def test_completion_shape_and_usage(sim: Sim) -> None:
    r = sim.post(PATH, chat())
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "meta-llama/llama-3.1-8b"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    text = choice["message"]["content"]
    usage = body["usage"]
    # completion tokens are what was generated; re-tokenizing the text agrees
    assert usage["completion_tokens"] == count_tokens(text)
    # 4 tokens of text + 3 tokens of per-message framing
    assert usage["prompt_tokens"] == count_tokens("Tell me about rivers") + 3 == 7
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert 16 <= usage["completion_tokens"] <= 64


def test_same_request_same_answer_and_seed_changes_it(sim: Sim) -> None:
    a = sim.post(PATH, chat()).json()["choices"][0]["message"]["content"]
    b = sim.post(PATH, chat()).json()["choices"][0]["message"]["content"]
    c = sim.post(PATH, chat(seed=7)).json()["choices"][0]["message"]["content"]
    other_provider = sim.post("/together/v1/chat/completions", chat()).json()
    assert a == b
    assert c != a
    assert other_provider["choices"][0]["message"]["content"] != a


def test_max_tokens_truncates_with_length(sim: Sim) -> None:
    full = sim.post(PATH, chat()).json()["choices"][0]["message"]["content"]
    for key in ("max_tokens", "max_completion_tokens"):
        request = chat()
        request[key] = 5
        body = sim.post(PATH, request).json()
        assert body["choices"][0]["finish_reason"] == "length"
        assert body["usage"]["completion_tokens"] == 5
        # the truncated answer is a prefix of the full one
        assert full.startswith(body["choices"][0]["message"]["content"])


def test_stop_sequence(sim: Sim) -> None:
    full = sim.post(PATH, chat()).json()["choices"][0]["message"]["content"]
    word = full.split()[3]
    body = sim.post(PATH, chat(stop=[word])).json()
    content = body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert word not in content
    assert full.startswith(content)
    assert content == full[: full.index(word)]


def test_stream_matches_json_and_ends_with_usage_chunk(sim: Sim) -> None:
    full = sim.post(PATH, chat()).json()
    r = sim.post(PATH, chat(stream=True, stream_options={"include_usage": True}))
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    assert events[-1][1] == "[DONE]"
    chunks = sse_json(r.text)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == full["choices"][0]["message"]["content"]
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert [c["choices"][0]["finish_reason"] for c in finish] == ["stop"]
    last = chunks[-1]
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] == full["usage"]["completion_tokens"]
    assert last["usage"]["prompt_tokens"] == full["usage"]["prompt_tokens"]
    # with include_usage every other chunk carries "usage": null
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage(sim: Sim) -> None:
    r = sim.post(PATH, chat(stream=True))
    chunks = sse_json(r.text)
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_tool_call_then_text_after_tool_result(sim: Sim) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather",
                "parameters": WEATHER_TOOL_SCHEMA,
            },
        }
    ]
    body = sim.post(PATH, chat("Weather in Paris?", tools=tools)).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    args = orjson.loads(call["function"]["arguments"])
    jsonschema.validate(args, WEATHER_TOOL_SCHEMA)
    assert body["usage"]["completion_tokens"] == count_tokens(call["function"]["arguments"])

    follow_up = chat("Weather in Paris?", tools=tools)
    follow_up["messages"] = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18C and sunny"},
    ]
    answer = sim.post(PATH, follow_up).json()["choices"][0]
    assert answer["finish_reason"] == "stop"
    assert isinstance(answer["message"]["content"], str) and answer["message"]["content"]
    assert "tool_calls" not in answer["message"]


def test_tool_choice_none_and_forced(sim: Sim) -> None:
    weather = {"name": "get_weather", "parameters": WEATHER_TOOL_SCHEMA}
    tools = [
        {"type": "function", "function": {"name": "a_tool", "parameters": {"type": "object"}}},
        {"type": "function", "function": weather},
    ]
    none = sim.post(PATH, chat(tools=tools, tool_choice="none")).json()["choices"][0]
    assert none["finish_reason"] == "stop" and "tool_calls" not in none["message"]
    forced = sim.post(
        PATH,
        chat(tools=tools, tool_choice={"type": "function", "function": {"name": "get_weather"}}),
    )
    call = forced.json()["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    jsonschema.validate(orjson.loads(call["function"]["arguments"]), WEATHER_TOOL_SCHEMA)


def test_streamed_tool_call_reassembles(sim: Sim) -> None:
    tools = [
        {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_TOOL_SCHEMA}}
    ]
    r = sim.post(PATH, chat(tools=tools, stream=True))
    chunks = sse_json(r.text)
    first = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert first["id"].startswith("call_") and first["function"]["name"] == "get_weather"
    args = "".join(
        tc["function"].get("arguments", "")
        for c in chunks
        for tc in c["choices"][0]["delta"].get("tool_calls", [])
    )
    jsonschema.validate(orjson.loads(args), WEATHER_TOOL_SCHEMA)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_json_schema_response_format(sim: Sim) -> None:
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "author": {"$ref": "#/$defs/person"},
        },
        "required": ["title", "tags", "score", "author"],
        "additionalProperties": False,
        "$defs": {
            "person": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
            }
        },
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "doc", "schema": schema, "strict": True}}
    content = sim.post(PATH, chat(response_format=fmt)).json()["choices"][0]["message"]["content"]
    jsonschema.validate(orjson.loads(content), schema)


def test_json_object_mode(sim: Sim) -> None:
    body = chat("Answer in JSON please", response_format={"type": "json_object"})
    content = sim.post(PATH, body).json()["choices"][0]["message"]["content"]
    assert isinstance(orjson.loads(content), dict)


def test_images_are_validated_and_counted(sim: Sim) -> None:
    def with_image(url: str) -> dict[str, object]:
        return chat(messages=None) | {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
                    ],
                }
            ]
        }

    ok = sim.post(PATH, with_image(f"data:image/png;base64,{PNG_B64}"))
    assert ok.status_code == 200
    # "What is this?" is 4 tokens, + 3 framing + 85 per image
    assert ok.json()["usage"]["prompt_tokens"] == 4 + 3 + 85
    assert sim.post(PATH, with_image("https://example.com/cat.png")).status_code == 200

    bad_b64 = sim.post(PATH, with_image("data:image/png;base64,@@not-base64@@"))
    assert bad_b64.status_code == 400
    assert bad_b64.json()["error"]["code"] == "invalid_image_format"
    wrong_type = sim.post(PATH, with_image(f"data:image/jpeg;base64,{PNG_B64}"))
    assert wrong_type.status_code == 400
    not_image = sim.post(PATH, with_image(f"data:text/plain;base64,{PNG_B64}"))
    assert not_image.status_code == 400
