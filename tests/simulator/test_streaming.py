"""Pacing, client disconnects (generation stops and the log says how far it got), failures."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from tests.simulator.conftest import ANTHROPIC_HEADERS, Sim, sse_events, sse_json

OPENAI = "/fireworks/v1/chat/completions"
ANTHROPIC = "/anthropic/v1/messages"
GEMINI = "/google-ai-studio/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def openai_body(tokens: int, stream: bool = True) -> dict[str, Any]:
    content = f"Write a story [sim:tokens={tokens}]"
    return {"model": "m", "stream": stream, "messages": [{"role": "user", "content": content}]}


def test_prompt_directive_sets_answer_length(sim: Sim) -> None:
    body = sim.post(OPENAI, openai_body(300, stream=False)).json()
    assert body["usage"]["completion_tokens"] == 300
    assert body["choices"][0]["finish_reason"] == "stop"


def test_tokens_are_paced_and_first_token_is_not_held_back(sim: Sim) -> None:
    sim.knobs("fireworks", tokens_per_second=100, ttft_ms=0)
    arrivals: list[float] = []
    start = time.monotonic()
    with sim.http.stream("POST", sim.url + OPENAI, content=orjson.dumps(openai_body(30))) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and '"content":"' in line:
                arrivals.append(time.monotonic() - start)
    assert len(arrivals) >= 29
    # 30 tokens at 100 tokens/s take about 0.3 s, and they trickle in rather than in one burst
    assert arrivals[-1] >= 0.25
    assert arrivals[0] < 0.15


def test_client_disconnect_stops_generation(sim: Sim) -> None:
    sim.knobs("fireworks", tokens_per_second=100, ttft_ms=0)
    received = 0
    with sim.http.stream("POST", sim.url + OPENAI, content=orjson.dumps(openai_body(2000))) as r:
        request_id = r.headers["x-simulator-request-id"]
        for line in r.iter_lines():
            if '"content":"' in line and '"content":""' not in line:
                received += 1
            if received == 10:
                break  # leaving the block closes the connection mid-stream
    rec = sim.record_by_id(request_id)
    assert rec["client_disconnected"] is True
    assert rec["planned_tokens"] == 2000
    # it stopped close to where the client left, not after producing all 2000 tokens
    assert 10 <= rec["completion_tokens"] < 60
    assert rec["finish_reason"] is None
    time.sleep(0.2)
    assert sim.record_by_id(request_id)["completion_tokens"] == rec["completion_tokens"]


def test_client_disconnect_during_non_streamed_request(sim: Sim) -> None:
    sim.knobs("fireworks", tokens_per_second=100, ttft_ms=0)
    try:
        with httpx.Client(timeout=0.3) as impatient:
            impatient.post(sim.url + OPENAI, content=orjson.dumps(openai_body(2000, False)))
    except httpx.ReadTimeout:
        pass
    deadline = time.monotonic() + 3
    while True:
        (rec,) = sim.requests("fireworks")
        if rec["done"] or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert rec["client_disconnected"] and rec["done"]
    # about 0.3 s worth of tokens at 100 tokens/s
    assert 10 <= rec["completion_tokens"] <= 80


def test_anthropic_disconnect_is_recorded_too(sim: Sim) -> None:
    sim.knobs("anthropic", tokens_per_second=100, ttft_ms=0)
    body = {
        "model": "c",
        "max_tokens": 4000,
        "stream": True,
        "messages": [{"role": "user", "content": "go [sim:tokens=3000]"}],
    }
    with sim.http.stream(
        "POST", sim.url + ANTHROPIC, content=orjson.dumps(body), headers=ANTHROPIC_HEADERS
    ) as r:
        request_id = r.headers["x-simulator-request-id"]
        for line in r.iter_lines():
            if line.startswith("event: content_block_delta"):
                break
    rec = sim.record_by_id(request_id)
    assert rec["client_disconnected"] and rec["completion_tokens"] < 60


def test_completed_stream_is_recorded(sim: Sim) -> None:
    r = sim.post(OPENAI, openai_body(40))
    rec = sim.record(r)
    assert rec["streamed"] and rec["completion_tokens"] == 40 and rec["finish_reason"] == "stop"
    assert not rec["client_disconnected"]


def test_openai_midstream_failure(sim: Sim) -> None:
    sim.knobs("fireworks", fail_after_tokens=5)
    r = sim.post(OPENAI, openai_body(40))
    assert r.status_code == 200
    events = sse_events(r.text)
    assert events[-1][1] != "[DONE]"
    last = orjson.loads(events[-1][1])
    assert last["error"]["type"] == "server_error"
    contents = [c for c in sse_json(r.text)[:-1] if c["choices"][0]["delta"].get("content")]
    assert len(contents) == 5
    rec = sim.record(r)
    assert rec["error"] == "midstream_failure" and rec["completion_tokens"] == 5


def test_anthropic_midstream_failure_is_an_error_event(sim: Sim) -> None:
    sim.knobs("anthropic", fail_after_tokens=3)
    body = {
        "model": "c",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    events = sse_events(sim.post(ANTHROPIC, body, headers=ANTHROPIC_HEADERS).text)
    names = [n for n, _ in events]
    assert names[-1] == "error" and "message_stop" not in names
    assert orjson.loads(events[-1][1])["error"]["type"] == "overloaded_error"
    assert names.count("content_block_delta") == 3


def test_gemini_midstream_failure(sim: Sim) -> None:
    sim.knobs("google-ai-studio", fail_after_tokens=2)
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    chunks = sse_json(sim.post(GEMINI, body).text)
    assert "error" in chunks[-1] and chunks[-1]["error"]["status"] == "INTERNAL"
    assert len(chunks) == 3


def test_random_midstream_failures_are_seeded(sim: Sim) -> None:
    sim.knobs("fireworks", midstream_failure_rate=1.0, seed=3)
    first = [sim.record(sim.post(OPENAI, openai_body(50)))["completion_tokens"] for _ in range(5)]
    assert all(n < 50 for n in first)
    sim.knobs("fireworks", seed=3)
    again = [sim.record(sim.post(OPENAI, openai_body(50)))["completion_tokens"] for _ in range(5)]
    assert again == first


def test_many_concurrent_requests(sim: Sim) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sim.knobs("fireworks", ttft_ms=0)
    payload = orjson.dumps(openai_body(20, stream=False))
    with httpx.Client(limits=httpx.Limits(max_connections=32)) as client:

        def one(_: int) -> int:
            return client.post(sim.url + OPENAI, content=payload).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(one, range(400)))
    assert statuses == [200] * 400
    assert len(sim.requests("fireworks")) == 100  # the log keeps the latest 100 by default
