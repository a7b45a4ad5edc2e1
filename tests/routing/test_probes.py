"""Quality screening against the simulator's "degraded" knob: an endpoint that answers wrong,
breaks JSON and malforms tool calls is pulled out of routing until its probes pass again."""

import time

from marketplace import probes
from simulator.testing import set_knobs
from tests.gateway.conftest import LLAMA, World

HELLO = [{"role": "user", "content": "hello"}]


def providers_served(world: World, n: int) -> set[str]:
    client = world.client()
    return {client.chat.completions.create(model=LLAMA, messages=HELLO, max_tokens=5).provider
            for _ in range(n)}


def test_a_degraded_endpoint_leaves_the_lane_until_it_passes(world: World):
    set_knobs(world.sim, "deepinfra", degraded_rate=1.0)
    results = probes.run_all({4, 5})
    assert results[4]["ok"] is False
    assert set(results[4]["failed"]) == {"known_answer", "json_schema", "tool_call"}
    assert results[5] == {**results[5], "ok": True, "failed": [], "unanswered": []}
    assert {int(i) for i in world.redis.smembers("gw:probes:failing")} == {4}

    providers_served(world, 1)
    time.sleep(1.2)  # the router re-reads its view once a second
    # deepinfra is far cheaper (chosen ~17 times out of 18), yet only together serves now.
    assert providers_served(world, 8) == {"Together"}

    set_knobs(world.sim, "deepinfra", degraded_rate=0.0)
    assert probes.run_all({4})[4]["ok"] is True
    assert world.redis.smembers("gw:probes:failing") == set()
    time.sleep(1.2)
    providers_served(world, 1)
    assert "Deepinfra" in providers_served(world, 8)


def test_an_endpoint_that_does_not_answer_is_not_a_quality_failure(world: World):
    set_knobs(world.sim, "together", error_rate=1.0)
    result = probes.run_all({5})[5]
    assert result["ok"] is True and result["unanswered"] == [
        "known_answer", "json_schema", "tool_call"]
