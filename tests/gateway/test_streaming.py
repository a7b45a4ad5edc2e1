"""Streaming: OpenAI SDK chunks, and the SSE framing itself read byte by byte with httpx."""

from typing import Any

import httpx
import orjson
import pytest

from simulator.testing import set_knobs
from tests.gateway.conftest import ONE_PER_FORMAT, World


def sse(world: World, body: dict[str, Any]) -> tuple[httpx.Response, list[bytes]]:
    """The raw SSE lines (blank separators dropped) of one streamed request."""
    with httpx.stream("POST", world.url + "/api/v1/chat/completions", json=body, timeout=30,
                      headers={"authorization": f"Bearer {world.key}"}) as response:
        lines = [line.encode() for line in response.iter_lines() if line]
    return response, lines


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_sdk_stream_reassembles_the_same_answer_as_non_stream(world: World, model: str):
    client = world.client()
    messages = [{"role": "user", "content": "Tell me about rivers."}]
    full = client.chat.completions.create(model=model, messages=messages, max_tokens=300)
    chunks = list(client.chat.completions.create(model=model, messages=messages,
                                                 max_tokens=300, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == full.choices[0].message.content
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("gen-")
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.model_extra or {})["cost"] > 0
    assert chunks[-1].usage.completion_tokens == full.usage.completion_tokens


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_sse_framing_one_usage_chunk_then_done(world: World, model: str):
    response, lines = sse(world, {"model": model, "stream": True, "max_tokens": 40,
                                  "messages": [{"role": "user", "content": "[sim:tokens=12] hi"}]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert lines[-1] == b"data: [DONE]"
    chunks = [orjson.loads(line[6:]) for line in lines[:-1] if line.startswith(b"data: ")]
    ids = {c["id"] for c in chunks}
    assert ids == {response.headers["x-generation-id"]}
    with_usage = [c for c in chunks if "usage" in c]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1] and chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 12
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == model for c in chunks)
    assert all(c["provider"] for c in chunks)


def test_keepalive_comments_while_waiting_for_the_first_token(world: World, gateway_options):
    set_knobs(world.sim, "openai", ttft_ms=700)
    response, lines = sse(world, {"model": ONE_PER_FORMAT[0], "stream": True,
                                  "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200
    assert lines[0] == b": OPENROUTER PROCESSING"
    assert lines[-1] == b"data: [DONE]"


@pytest.fixture
def gateway_options() -> dict[str, Any]:
    return {"keepalive_interval": 0.2}


def test_an_error_before_the_first_byte_is_a_plain_http_error(world: World):
    set_knobs(world.sim, "openai", error_rate=1.0, error_statuses=[500])
    response, lines = sse(world, {"model": ONE_PER_FORMAT[0], "stream": True,
                                  "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 502
    assert orjson.loads(b"".join(lines))["error"]["code"] == 502
    assert world.account()["reserved"] == 0


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_a_mid_stream_failure_ends_with_an_error_chunk(world: World, model: str):
    provider = {ONE_PER_FORMAT[0]: "openai", ONE_PER_FORMAT[1]: "anthropic",
                ONE_PER_FORMAT[2]: "google-ai-studio"}[model]
    set_knobs(world.sim, provider, fail_after_tokens=5)
    response, lines = sse(world, {"model": model, "stream": True, "max_tokens": 100,
                                  "messages": [{"role": "user", "content": "[sim:tokens=40] x"}]})
    assert response.status_code == 200
    assert lines[-1] == b"data: [DONE]"
    last = orjson.loads(lines[-2][6:])
    assert last["error"]["code"] == 502
    assert last["choices"][0]["finish_reason"] == "error"
    content = "".join(orjson.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                      for line in lines[:-2] if line.startswith(b"data: "))
    assert content  # the tokens before the failure were delivered
    (event,) = world.events()
    assert event["finish_reason"] == "error"
    assert 0 < event["tokens_completion"] <= 6
    assert world.account()["reserved"] == 0
