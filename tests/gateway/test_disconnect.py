"""A client that disconnects mid-stream stops the upstream and pays only for what was made."""

import socket
import time
from urllib.parse import urlparse

import orjson

from simulator.testing import recent_requests, set_knobs
from tests.gateway.conftest import World


def test_disconnect_stops_the_upstream_and_bills_the_produced_tokens(world: World):
    set_knobs(world.sim, "deepinfra", tokens_per_second=100)
    body = orjson.dumps({"model": "meta-llama/llama-3.3-70b-instruct", "stream": True,
                         "provider": {"order": ["deepinfra"]}, "max_tokens": 2000,
                         "messages": [{"role": "user", "content": "[sim:tokens=1000] go"}]})
    url = urlparse(world.url)
    with socket.create_connection((url.hostname, url.port or 80)) as sock:
        sock.sendall(
            b"POST /api/v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
            b"content-type: application/json\r\nauthorization: Bearer " + world.key.encode()
            + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        received = b""
        while received.count(b"data: {") < 10:
            received += sock.recv(65536)
    started = time.monotonic()
    while not world.events() and time.monotonic() - started < 5:
        time.sleep(0.02)

    (event,) = world.events()
    assert event["cancelled"] is True and event["streamed"] is True
    (record,) = recent_requests(world.sim, "deepinfra")
    assert record["client_disconnected"] is True
    assert record["completion_tokens"] < 200 < record["planned_tokens"]
    # Billed for what the upstream produced (estimated from the text it streamed to us).
    assert 10 <= event["tokens_completion"] <= record["completion_tokens"]
    balance = world.account()
    assert balance["spent"] == event["cost_nanos"] > 0 and balance["reserved"] == 0
