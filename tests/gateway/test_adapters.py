"""Pure translation per wire format: request bodies out, answers and stream events back."""

from typing import Any

import orjson

from gateway.catalog import Endpoint, Pricing
from gateway.providers import ADAPTERS

CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": [{"type": "text", "text": "Look:"},
                                 {"type": "image_url",
                                  "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "lookup", "arguments": '{"q": "x"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"answer": 42}'},
    {"role": "user", "content": "And so?"},
]
TOOLS: list[dict[str, Any]] = [{"type": "function", "function": {"name": "lookup", "parameters": {
    "type": "object", "properties": {"q": {"type": ["string", "null"]}},
    "additionalProperties": False}}}]
BODY = {"messages": CONVERSATION, "tools": TOOLS, "tool_choice": "required", "stop": "END",
        "temperature": 1.5, "top_p": 0.9, "top_k": 5, "seed": 7, "max_tokens": 64,
        "provider": {"sort": "price"}, "transforms": []}


def endpoint(api_format: str, supported: tuple[str, ...] = ()) -> Endpoint:
    return Endpoint(1, "a/m", "p", "P", "p", api_format, "http://up/v1", None, "up-model", None,
                    None, 1000, None, None, Pricing(), frozenset(supported), False, True)


def build(api_format: str, body: dict, stream: bool = False, **kw) -> tuple[str, dict, dict]:
    out = ADAPTERS[api_format].build(body, endpoint(api_format, **kw), stream=stream,
                                     max_tokens=64, api_key="secret")
    return out.url, out.headers, orjson.loads(out.body)


def test_openai_passes_known_params_and_drops_router_fields():
    url, headers, body = build("openai", BODY, stream=True)
    assert url == "http://up/v1/chat/completions" and headers["authorization"] == "Bearer secret"
    assert body["model"] == "up-model" and body["messages"] == CONVERSATION
    assert body["stream_options"] == {"include_usage": True}
    assert "provider" not in body and "transforms" not in body and "top_k" not in body
    _, _, open_host = build("openai", BODY, supported=("top_k",))
    assert open_host["top_k"] == 5


def test_anthropic_request_translation():
    url, headers, body = build("anthropic", BODY)
    assert url == "http://up/v1/messages" and headers["x-api-key"] == "secret"
    assert headers["anthropic-version"] == "2023-06-01"
    assert body["system"] == [{"type": "text", "text": "Be brief."}]
    assert body["max_tokens"] == 64 and body["temperature"] == 1  # clamped to Anthropic's range
    assert body["stop_sequences"] == ["END"] and body["tool_choice"] == {"type": "any"}
    user, assistant, results = body["messages"]
    assert user["content"][1]["source"] == {"type": "base64", "media_type": "image/png",
                                            "data": "iVBORw0KGgo="}
    assert assistant["content"] == [{"type": "tool_use", "id": "call_1", "name": "lookup",
                                     "input": {"q": "x"}}]
    # The tool result and the next user turn share one user message.
    assert [b["type"] for b in results["content"]] == ["tool_result", "text"]
    assert body["tools"][0]["input_schema"] == TOOLS[0]["function"]["parameters"]


def test_gemini_request_translation():
    url, headers, body = build("gemini", BODY, stream=True)
    assert url == "http://up/v1/models/up-model:streamGenerateContent?alt=sse"
    assert headers["x-goog-api-key"] == "secret"
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][0]["parts"][1] == {
        "inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    assert body["contents"][2]["parts"][0] == {
        "functionResponse": {"name": "lookup", "response": {"answer": 42}}}
    config = body["generationConfig"]
    assert config == {"maxOutputTokens": 64, "temperature": 1.5, "topP": 0.9, "topK": 5,
                      "seed": 7, "stopSequences": ["END"]}
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    params = body["tools"][0]["functionDeclarations"][0]["parameters"]
    assert params == {"type": "object",
                      "properties": {"q": {"type": "string", "nullable": True}}}


def test_finish_reasons_are_normalised_and_the_native_one_kept():
    anthropic = ADAPTERS["anthropic"].parse({
        "id": "msg_1", "content": [{"type": "text", "text": "Hi"},
                                   {"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 3, "output_tokens": 4,
                                             "cache_read_input_tokens": 2}})
    assert (anthropic.finish_reason, anthropic.native_finish_reason) == ("tool_calls", "tool_use")
    assert anthropic.message["tool_calls"][0]["function"] == {"name": "f", "arguments": "{}"}
    assert anthropic.usage is not None and anthropic.usage.prompt_tokens == 5
    assert anthropic.usage.cached_tokens == 2
    gemini = ADAPTERS["gemini"].parse({"candidates": [{"content": {"parts": [{"text": "x"}]},
                                                       "finishReason": "MAX_TOKENS"}]})
    assert (gemini.finish_reason, gemini.native_finish_reason) == ("length", "MAX_TOKENS")


def test_anthropic_stream_events_become_openai_deltas():
    decoder = ADAPTERS["anthropic"].decoder({})
    events = [
        {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 9}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "content_block_start", "index": 1,
         "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}},
        {"type": "content_block_delta", "index": 1,
         "delta": {"type": "input_json_delta", "partial_json": "{}"}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
         "usage": {"output_tokens": 5}},
        {"type": "message_stop"},
    ]
    deltas = [d for e in events for d in decoder.feed(None, orjson.dumps(e))]
    assert deltas[0] == {"content": "Hi"}
    assert deltas[1]["tool_calls"][0]["function"]["name"] == "f"
    assert deltas[2]["tool_calls"][0]["function"]["arguments"] == "{}"
    state = decoder.state
    assert state.done and state.finish_reason == "tool_calls"
    assert state.usage is not None and (state.usage.prompt_tokens, state.usage.completion_tokens
                                        ) == (9, 5)
