"""A provider that breaks mid-stream: each surface reports it in its own shape, and the
tokens produced are still metered."""

import httpx
import orjson

from simulator.testing import set_knobs
from tests.clients.conftest import CLAUDE, World


def events(response: httpx.Response) -> list[tuple[str | None, dict]]:
    out = []
    for block in response.text.split("\n\n"):
        name, data = None, None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and line != "data: [DONE]":
                data = orjson.loads(line[6:])
        if data is not None:
            out.append((name, data))
    return out


def test_messages_stream_ends_with_an_error_event(world: World):
    set_knobs(world.sim, "anthropic", fail_after_tokens=5)
    response = httpx.post(world.url + "/api/v1/messages", headers={"x-api-key": world.key},
                          json={"model": CLAUDE, "max_tokens": 200, "stream": True,
                                "messages": [{"role": "user", "content": "Tell a story"}]})
    assert response.status_code == 200
    names = [name for name, _ in events(response)]
    assert names[0] == "message_start" and names[-1] == "error"
    assert events(response)[-1][1]["error"]["type"] == "api_error"
    (event,) = world.events()
    assert event["finish_reason"] == "error" and event["tokens_completion"] > 0


def test_responses_stream_ends_with_response_failed(world: World):
    set_knobs(world.sim, "anthropic", fail_after_tokens=5)
    response = httpx.post(world.url + "/api/v1/responses",
                          headers={"authorization": f"Bearer {world.key}"},
                          json={"model": CLAUDE, "input": "Tell a story", "stream": True,
                                "max_output_tokens": 200})
    payloads = [data for _, data in events(response)]
    assert payloads[0]["type"] == "response.created"
    failed = payloads[-1]
    assert failed["type"] == "response.failed"
    assert failed["response"]["status"] == "failed"
    assert failed["response"]["error"]["code"] == "server_error"
    assert response.text.rstrip().endswith("data: [DONE]")


def test_messages_errors_before_output_use_anthropics_shape(world: World):
    response = httpx.post(world.url + "/api/v1/messages", headers={"x-api-key": world.key},
                          json={"model": "nobody/nothing", "max_tokens": 10,
                                "messages": [{"role": "user", "content": "Hi"}]})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
