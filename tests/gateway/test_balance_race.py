"""Concurrent requests against a small balance never overspend and leave nothing reserved."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from gateway import keys as gw_keys
from gateway.pricing import max_cost_nanos
from gateway.request import parse
from simulator.testing import set_knobs
from tests.gateway.conftest import OPENAI_MODEL, World, account, publish_account, publish_key

BODY = {"model": OPENAI_MODEL, "max_tokens": 2000,
        "messages": [{"role": "user", "content": "[sim:tokens=30] race"}]}


def test_concurrent_requests_cannot_overspend(world: World):
    from gateway.catalog import Snapshot

    snapshot = Snapshot.parse(1, world.redis.hget(gw_keys.CATALOG, "data"))
    endpoint = snapshot.models[OPENAI_MODEL].endpoints[0]
    req = parse(httpx.Request("POST", "/", json=BODY).content)
    hold = max_cost_nanos(endpoint, req.prompt_bound, 2000, 0)
    affordable = 4
    publish_account(world.redis, user_id=5, credits_usd=(affordable * hold + hold // 2) / 1e9)
    key = publish_key(world.redis, user_id=5)
    set_knobs(world.sim, "openai", ttft_ms=1000)  # all requests are in flight together

    def call(_: int) -> int:
        return httpx.post(world.url + "/api/v1/chat/completions", json=BODY, timeout=30,
                          headers={"authorization": f"Bearer {key}"}).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(call, range(16)))

    # A request that finishes early settles at its (much smaller) real cost, which can let
    # one more in; what must never happen is spending more than the credits.
    assert affordable <= statuses.count(200) < 16, statuses
    assert set(statuses) == {200, 402}
    balance = account(world.redis, 5)
    events = world.events()
    assert len(events) == statuses.count(200)
    assert balance["reserved"] == 0
    assert balance["spent"] == sum(e["cost_nanos"] for e in events) <= balance["credits"]
