"""One simulator per test session; each test starts from the default knobs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from simulator.testing import recent_requests, request_record, reset, run_simulator, set_knobs

# A real 1x1 PNG, so image validation sees genuine magic bytes.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}
WEATHER_TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    with run_simulator() as url:
        yield url


@dataclass
class Sim:
    url: str
    http: httpx.Client

    def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.http.post(self.url + path, content=content, **kwargs)

    def knobs(self, provider: str, **knobs: Any) -> dict[str, Any]:
        return set_knobs(self.url, provider, **knobs)

    def requests(self, provider: str | None = None) -> list[dict[str, Any]]:
        return recent_requests(self.url, provider)

    def record(self, response: httpx.Response) -> dict[str, Any]:
        return request_record(self.url, response.headers["x-simulator-request-id"])

    def record_by_id(self, request_id: str) -> dict[str, Any]:
        return request_record(self.url, request_id)


@pytest.fixture
def sim(simulator_url: str) -> Iterator[Sim]:
    reset(simulator_url)
    with httpx.Client(timeout=10) as http:
        yield Sim(simulator_url, http)


def sse_events(body: str) -> list[tuple[str | None, str]]:
    """(event name, data) pairs of a server-sent event stream."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, "\n".join(data)))
    return events


def sse_json(body: str) -> list[Any]:
    return [orjson.loads(d) for _, d in sse_events(body) if d != "[DONE]"]
