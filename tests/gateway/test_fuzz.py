"""Malformed bodies always get a 4xx in the error shape, and the gateway keeps serving."""

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gateway.conftest import OPENAI_MODEL, World

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)
FIELDS = ["model", "messages", "stream", "max_tokens", "temperature", "tools", "tool_choice",
          "response_format", "provider", "models", "stop", "prompt", "seed", "top_k"]
bodies = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([
        b'{"model": 1e999, "messages": [{"role": "user", "content": "x"}]}',
        b'{"model": "openai/gpt-4o-mini", "max_tokens": 123456789012345678901234567890,'
        b' "messages": [{"role": "user", "content": "x"}]}',
        b'{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "\\ud800"}]}',
    ]),
    json_values.map(orjson.dumps),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5).map(orjson.dumps),
    st.fixed_dictionaries({
        "model": st.sampled_from([OPENAI_MODEL, "x/y", OPENAI_MODEL + ":nitro"]),
        "messages": st.lists(st.dictionaries(st.sampled_from(["role", "content", "tool_calls",
                                                              "tool_call_id"]),
                                             json_values, max_size=3), max_size=2),
    }, optional={"max_tokens": json_values, "stream": json_values, "tools": json_values,
                 "provider": json_values}).map(orjson.dumps),
)


def test_malformed_bodies_never_500(world: World):
    client = httpx.Client(base_url=world.url, timeout=30,
                          headers={"authorization": f"Bearer {world.key}"})

    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(body=bodies, path=st.sampled_from(["/api/v1/chat/completions",
                                              "/api/v1/completions"]))
    def check(body: bytes, path: str) -> None:
        response = client.post(path, content=body)
        if response.status_code == 200:
            return  # a body that happens to be valid
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
        error = response.json()["error"]
        assert error["code"] == response.status_code and isinstance(error["message"], str)

    check()
    ok = client.post("/api/v1/chat/completions", json={
        "model": OPENAI_MODEL, "messages": [{"role": "user", "content": "still there?"}]})
    assert ok.status_code == 200
    client.close()
