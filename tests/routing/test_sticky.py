"""Cache-aware stickiness: the turns of one conversation stay on the endpoint that served the
previous one while its cache is warm, unless it fails; never with provider.order."""

import time
from collections import Counter
from typing import Any

from simulator.testing import set_knobs
from tests.gateway.conftest import World, endpoint, model, publish_catalog

M = "acme/cached"
HELLO = [{"role": "user", "content": "hello"}]


def cached_catalog(world: World) -> None:
    """Two endpoints at the same price (so the default pick is a coin toss), both with a
    cached-input price below their input price."""
    extra: dict[str, Any] = {"pricing": {"prompt": "0.000001", "completion": "0.000001",
                                         "input_cache_read": "0.0000001"}}
    publish_catalog(world.redis, {M: model(
        M, endpoint(world.sim, 41, "deepinfra", "openai", "m", "0", "0", **extra),
        endpoint(world.sim, 42, "together", "openai", "m", "0", "0", **extra))})
    time.sleep(1.1)  # the gateway checks the catalog version once a second


def served(world: World, n: int, **extra: Any) -> list[str]:
    client = world.client()
    return [client.chat.completions.create(model=M, messages=HELLO, max_tokens=5,
                                           extra_body=extra).provider for _ in range(n)]


def test_a_session_stays_on_one_endpoint(world: World):
    cached_catalog(world)
    first = served(world, 1, session_id="conv-1")[0]
    assert served(world, 8, session_id="conv-1") == [first] * 8
    # Other conversations are still balanced between the two.
    spread = Counter(p for i in range(16) for p in served(world, 1, session_id=f"other-{i}"))
    assert len(spread) == 2


def test_a_failing_pinned_endpoint_falls_back_and_the_pin_moves(world: World):
    cached_catalog(world)
    first = served(world, 1, session_id="conv-2")[0]
    set_knobs(world.sim, first.lower(), error_rate=1.0)
    moved = served(world, 3, session_id="conv-2")
    assert first not in moved and len(set(moved)) == 1
    set_knobs(world.sim, first.lower(), error_rate=0.0)
    assert set(served(world, 3, session_id="conv-2")) == set(moved)


def test_provider_order_overrides_the_pin(world: World):
    cached_catalog(world)
    first = served(world, 1, session_id="conv-3")[0]
    other = "together" if first == "Deepinfra" else "deepinfra"
    assert served(world, 2, session_id="conv-3", provider={"order": [other]}) == [
        other.title()] * 2


def test_the_turns_of_a_conversation_read_the_warm_cache_and_cost_less(world: World):
    cached_catalog(world)
    client = world.client()
    system = {"role": "system", "content": "You are a careful assistant. " * 700}
    messages: list[dict[str, Any]] = [system, {"role": "user", "content": "first question"}]
    turns = []
    for i in range(4):
        completion = client.chat.completions.create(
            model=M, messages=messages, max_tokens=5, extra_body={"session_id": "long-1"})
        turns.append(completion)
        messages += [{"role": "assistant", "content": completion.choices[0].message.content},
                     {"role": "user", "content": f"follow-up {i}"}]
    assert len({t.provider for t in turns}) == 1
    cached = [t.usage.prompt_tokens_details.cached_tokens for t in turns]
    assert cached[0] == 0 and all(c >= 1024 for c in cached[1:]), cached
    # The discount shows in the cost: later turns are longer yet cost less than the first.
    costs = [t.usage.model_extra["cost"] for t in turns]
    assert all(c < costs[0] for c in costs[1:]), costs
