"""The retry budget stops at the request's deadline: an endpoint that fails slowly (no first
byte in time) is retried only while the deadline allows, and each retry waits at most what is
left of it."""

import time
from typing import Any

import httpx
import pytest

from simulator.testing import recent_requests, set_knobs
from tests.gateway.conftest import OPENAI_MODEL, World

FIRST_BYTE_S = 0.5
DEADLINE_S = 1.2


@pytest.fixture
def gateway_options() -> dict[str, Any]:
    return {"first_byte_timeout": FIRST_BYTE_S, "retry_deadline": DEADLINE_S}


def test_no_retry_past_the_deadline(world: World):
    set_knobs(world.sim, "openai", ttft_ms=3000)
    began = time.monotonic()
    response = httpx.post(
        world.url + "/api/v1/chat/completions", timeout=30,
        headers={"authorization": f"Bearer {world.key}"},
        json={"model": OPENAI_MODEL, "stream": True, "max_tokens": 5,
              "messages": [{"role": "user", "content": "hi"}]})
    elapsed = time.monotonic() - began
    assert response.status_code == 502
    assert "no first token" in response.json()["error"]["metadata"]["raw"]
    # One attempt and three retries would take 2 s; the deadline cuts the third short.
    assert len(recent_requests(world.sim, "openai")) == 3
    assert DEADLINE_S - 0.1 < elapsed < DEADLINE_S + 0.5
    assert world.account()["spent"] == 0
