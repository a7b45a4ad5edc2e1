"""Gemini generateContent / streamGenerateContent shapes."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson

from simulator.text import count_tokens
from tests.simulator.conftest import PNG_B64, WEATHER_TOOL_SCHEMA, Sim, sse_json

BASE = "/google-ai-studio/v1beta/models/gemini-2.5-flash"
GEN = BASE + ":generateContent"
STREAM = BASE + ":streamGenerateContent"
TOOLS = [
    {
        "functionDeclarations": [
            {
                "name": "get_weather",
                "description": "Weather",
                "parametersJsonSchema": WEATHER_TOOL_SCHEMA,
            }
        ]
    }
]


def req(text: str = "Tell me about rivers", **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def text_of(body: dict[str, Any]) -> str:
    return "".join(p.get("text", "") for p in body["candidates"][0]["content"]["parts"])


def test_generate_content_shape(sim: Sim) -> None:
    r = sim.post(GEN, req(systemInstruction={"parts": [{"text": "Be brief."}]}))
    assert r.status_code == 200
    body = r.json()
    cand = body["candidates"][0]
    assert cand["content"]["role"] == "model"
    assert cand["finishReason"] == "STOP"
    assert body["modelVersion"] == "gemini-2.5-flash"
    usage = body["usageMetadata"]
    assert usage["candidatesTokenCount"] == count_tokens(text_of(body))
    assert usage["promptTokenCount"] == 3 + 4 + 3
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


def test_snake_case_fields_are_accepted_too(sim: Sim) -> None:
    camel = sim.post(GEN, req(generationConfig={"maxOutputTokens": 5})).json()
    snake = sim.post(GEN, req(generation_config={"max_output_tokens": 5})).json()
    assert text_of(camel) == text_of(snake)
    assert camel["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert camel["usageMetadata"]["candidatesTokenCount"] == 5


def test_stop_sequences_finish_with_stop(sim: Sim) -> None:
    full = text_of(sim.post(GEN, req()).json())
    word = full.split()[2]
    body = sim.post(GEN, req(generationConfig={"stopSequences": [word]})).json()
    assert body["candidates"][0]["finishReason"] == "STOP"
    assert text_of(body) == full[: full.index(word)]


def test_sse_stream(sim: Sim) -> None:
    full = sim.post(GEN, req()).json()
    r = sim.post(STREAM + "?alt=sse", req())
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "\r\n\r\n" in r.text  # Google frames events with CRLF
    chunks = sse_json(r.text)
    assert "[DONE]" not in r.text
    assert "".join(text_of(c) for c in chunks) == text_of(full)
    assert [c["candidates"][0].get("finishReason") for c in chunks][-1] == "STOP"
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert chunks[-1]["usageMetadata"] == full["usageMetadata"]


def test_stream_without_alt_sse_is_a_json_array(sim: Sim) -> None:
    r = sim.post(STREAM, req())
    assert r.headers["content-type"].startswith("application/json")
    chunks = orjson.loads(r.content)
    assert isinstance(chunks, list) and len(chunks) > 2
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_function_call_and_response(sim: Sim) -> None:
    body = sim.post(GEN, req("Weather in Paris?", tools=TOOLS)).json()
    cand = body["candidates"][0]
    assert cand["finishReason"] == "STOP"
    (part,) = cand["content"]["parts"]
    call = part["functionCall"]
    assert call["name"] == "get_weather"
    jsonschema.validate(call["args"], WEATHER_TOOL_SCHEMA)

    follow = req("Weather in Paris?", tools=TOOLS)
    follow["contents"] += [
        {"role": "model", "parts": [part]},
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 18}}}],
        },
    ]
    answer = sim.post(GEN, follow).json()
    assert "functionCall" not in answer["candidates"][0]["content"]["parts"][0]
    assert text_of(answer)


def test_tool_config_modes(sim: Sim) -> None:
    none = sim.post(GEN, req(tools=TOOLS, toolConfig={"functionCallingConfig": {"mode": "NONE"}}))
    assert "functionCall" not in none.json()["candidates"][0]["content"]["parts"][0]
    tools = [
        {
            "functionDeclarations": [
                {"name": "a_tool", "parameters": {"type": "OBJECT", "properties": {}}},
                {
                    "name": "lookup",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {
                            "q": {"type": "STRING"},
                            "n": {"type": "INTEGER", "minimum": 1, "maximum": 3},
                        },
                        "required": ["q", "n"],
                    },
                },
            ]
        }
    ]
    forced = sim.post(
        GEN,
        req(
            "hi",
            tools=tools,
            toolConfig={
                "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["lookup"]}
            },
        ),
    ).json()
    call = forced["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert call["name"] == "lookup"
    assert isinstance(call["args"]["q"], str) and 1 <= call["args"]["n"] <= 3


def test_streamed_function_call_arrives_whole(sim: Sim) -> None:
    chunks = sse_json(sim.post(STREAM + "?alt=sse", req("weather?", tools=TOOLS)).text)
    calls = [
        p["functionCall"]
        for c in chunks
        for p in c["candidates"][0]["content"]["parts"]
        if "functionCall" in p
    ]
    assert len(calls) == 1
    jsonschema.validate(calls[0]["args"], WEATHER_TOOL_SCHEMA)


def test_json_response_schema(sim: Sim) -> None:
    schema = {
        "type": "OBJECT",
        "properties": {
            "name": {"type": "STRING"},
            "age": {"type": "INTEGER", "minimum": 0, "maximum": 120},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}},
        },
        "required": ["name", "age"],
        "propertyOrdering": ["name", "age", "tags"],
    }
    body = sim.post(
        GEN,
        req(generationConfig={"responseMimeType": "application/json", "responseSchema": schema}),
    ).json()
    value = orjson.loads(text_of(body))
    assert list(value)[:2] == ["name", "age"]
    json_schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
        },
        "required": ["name", "age"],
    }
    jsonschema.validate(value, json_schema)
    also = sim.post(
        GEN,
        req(
            generationConfig={
                "responseMimeType": "application/json",
                "responseJsonSchema": json_schema,
            }
        ),
    ).json()
    jsonschema.validate(orjson.loads(text_of(also)), json_schema)


def test_inline_data_and_file_data(sim: Sim) -> None:
    def with_part(part: dict[str, Any]) -> dict[str, Any]:
        return {"contents": [{"role": "user", "parts": [{"text": "What?"}, part]}]}

    ok = sim.post(GEN, with_part({"inlineData": {"mimeType": "image/png", "data": PNG_B64}}))
    assert ok.status_code == 200
    assert ok.json()["usageMetadata"]["promptTokenCount"] == 2 + 3 + 85
    snake = sim.post(GEN, with_part({"inline_data": {"mime_type": "image/png", "data": PNG_B64}}))
    assert snake.status_code == 200
    uri = with_part({"fileData": {"mimeType": "image/png", "fileUri": "gs://b/cat.png"}})
    assert sim.post(GEN, uri).status_code == 200

    bad = sim.post(GEN, with_part({"inlineData": {"mimeType": "image/png", "data": "@@@"}}))
    assert bad.status_code == 400
    err = bad.json()["error"]
    assert err["status"] == "INVALID_ARGUMENT" and err["code"] == 400
    assert "Base64 decoding failed" in err["message"]
    mime = sim.post(GEN, with_part({"inlineData": {"mimeType": "foo/bar", "data": PNG_B64}}))
    assert mime.status_code == 400
    assert "Unsupported MIME type" in mime.json()["error"]["message"]
