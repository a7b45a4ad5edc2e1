"""Routing through the gateway with the simulator's faults: a dead endpoint stops receiving
traffic within a few requests, and live throughput decides `:nitro` and `sort`."""

import time

from simulator.testing import set_knobs
from tests.gateway.conftest import LLAMA, World

HELLO = [{"role": "user", "content": "hello"}]


def test_a_dead_endpoint_is_avoided_after_a_few_failures(world: World):
    set_knobs(world.sim, "deepinfra", down_until=time.time() + 600)
    client = world.client()
    for _ in range(12):
        completion = client.chat.completions.create(model=LLAMA, messages=HELLO, max_tokens=8)
        assert completion.provider == "Together"
    tried = [[a["provider"] for a in e["provider_responses"]] for e in world.events()]
    assert sum(t.count("deepinfra") for t in tried) >= 5, tried  # it was tried ...
    assert all("deepinfra" not in t for t in tried[-6:]), tried  # ... and then left alone


def test_nitro_and_sort_follow_live_throughput(world: World):
    # deepinfra is the cheaper one, so only live figures can put together first.
    set_knobs(world.sim, "deepinfra", tokens_per_second=40, completion_tokens=[12, 12])
    set_knobs(world.sim, "together", tokens_per_second=4000, completion_tokens=[12, 12])
    client = world.client()
    for provider in ("together", "deepinfra") * 3:
        client.chat.completions.create(model=LLAMA, messages=HELLO, stream=False,
                                       extra_body={"provider": {"only": [provider]}})
    time.sleep(1.3)  # flushed within 0.25 s; the router's view refreshes every second
    client.chat.completions.create(model=LLAMA, messages=HELLO)
    time.sleep(0.3)
    served = {client.chat.completions.create(model=LLAMA + ":nitro", messages=HELLO).provider
              for _ in range(5)}
    assert served == {"Together"}
    served = {client.chat.completions.create(
        model=LLAMA, messages=HELLO,
        extra_body={"provider": {"sort": "throughput"}}).provider for _ in range(3)}
    assert served == {"Together"}
    served = {client.chat.completions.create(
        model=LLAMA, messages=HELLO,
        extra_body={"provider": {"sort": "price"}}).provider for _ in range(3)}
    assert served == {"Deepinfra"}
