"""A provider that cannot abort keeps generating after the client leaves: the gateway reads
its answer to the end and bills all of it (the catalog's can_abort)."""

import socket
import time
from urllib.parse import urlparse

import orjson

from simulator.testing import recent_requests, set_knobs
from tests.gateway.conftest import LLAMA, World, default_models, publish_catalog


def test_a_provider_that_cannot_abort_is_read_to_the_end_and_billed_in_full(world: World):
    models = default_models(world.sim)
    for ep in models[LLAMA]["endpoints"]:
        ep["can_abort"] = False
    publish_catalog(world.redis, models)
    time.sleep(1.1)  # the gateway checks the catalog version once a second
    set_knobs(world.sim, "deepinfra", tokens_per_second=400)
    body = orjson.dumps({"model": LLAMA, "stream": True, "max_tokens": 2000,
                         "provider": {"order": ["deepinfra"]},
                         "messages": [{"role": "user", "content": "[sim:tokens=300] go"}]})
    url = urlparse(world.url)
    with socket.create_connection((url.hostname, url.port or 80)) as sock:
        sock.sendall(
            b"POST /api/v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
            b"content-type: application/json\r\nauthorization: Bearer " + world.key.encode()
            + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        received = b""
        while received.count(b"data: {") < 5:
            received += sock.recv(65536)
    started = time.monotonic()
    while not world.events() and time.monotonic() - started < 10:
        time.sleep(0.05)

    (event,) = world.events()
    assert event["cancelled"] is True
    (record,) = recent_requests(world.sim, "deepinfra")
    assert record["client_disconnected"] is False  # the gateway kept reading
    assert record["completion_tokens"] == record["planned_tokens"] == 300
    assert event["tokens_completion"] == 300  # billed what the provider produced
    assert world.account()["spent"] == event["cost_nanos"] > 0
