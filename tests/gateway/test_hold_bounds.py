"""A hold is a true upper bound of what the serving endpoint will count, and a request is
refused with 402 only when no eligible endpoint is affordable."""

from typing import Any

import orjson

from gateway import keys as gw_keys
from gateway.catalog import Snapshot
from gateway.pricing import max_cost_nanos
from gateway.request import parse
from tests.gateway.conftest import LLAMA, OPENAI_MODEL, World, publish_account, publish_key


def chat(world: World, body: dict[str, Any], key: str | None = None) -> Any:
    import httpx

    return httpx.post(world.url + "/api/v1/chat/completions", json=body, timeout=30,
                      headers={"authorization": f"Bearer {key or world.key}"})


def test_the_prompt_bound_covers_the_simulators_count_of_a_dense_prompt(world: World) -> None:
    # Punctuation is one token per character for the simulator (and for real tokenizers it is
    # often close): three characters per token would guess a third of it.
    body = {"model": OPENAI_MODEL, "max_tokens": 5,
            "messages": [{"role": "system", "content": "?!" * 500},
                         {"role": "user", "content": "[sim:tokens=3] «¿¡»" * 200}]}
    req = parse(orjson.dumps(body))
    resp = chat(world, body)
    assert resp.status_code == 200, resp.text
    counted = resp.json()["usage"]["prompt_tokens"]
    assert req.prompt_tokens < counted <= req.prompt_bound
    (event,) = world.events()
    assert event["tokens_prompt"] == counted


def test_an_unaffordable_first_endpoint_falls_to_an_affordable_one(world: World) -> None:
    snapshot = Snapshot.parse(1, world.redis.hget(gw_keys.CATALOG, "data"))
    deepinfra, together = (next(e for e in snapshot.models[LLAMA].endpoints if e.provider == p)
                           for p in ("deepinfra", "together"))
    body = {"model": LLAMA, "max_tokens": 1000, "provider": {"order": ["together", "deepinfra"]},
            "messages": [{"role": "user", "content": "[sim:tokens=5] hello"}]}
    bound = parse(orjson.dumps(body)).prompt_bound
    cheap, dear = (max_cost_nanos(e, bound, 1000, 0) for e in (deepinfra, together))
    assert cheap < dear
    publish_account(world.redis, user_id=7, credits_usd=(cheap + dear) / 2 / 1e9)
    key = publish_key(world.redis, user_id=7)

    for _ in range(5):  # not by luck of the draw
        served = chat(world, body, key)
        assert served.status_code == 200, served.text
        assert served.json()["provider"] == deepinfra.provider_name

    publish_account(world.redis, user_id=8, credits_usd=(cheap - 1) / 1e9)
    poor = publish_key(world.redis, user_id=8)
    refused = chat(world, body, poor)
    assert refused.status_code == 402
    assert refused.json()["error"]["metadata"]["error_type"] == "payment_required"
