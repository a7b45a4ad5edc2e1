"""A mixture's hold covers its sub-calls' thinking: when Anthropic thinking raises a sub-call's
upstream max_tokens to budget + requested, the parent holds the raised figure, so a small
credit cannot be overspent by a mixture that thinks."""

import httpx

from tests.moa.conftest import SONNET, World, publish_account


def test_a_thinking_mixture_cannot_overspend_a_small_credit(world: World):
    publish_account(world.redis, credits_usd=0.03)
    answer = httpx.post(
        world.url + "/api/v1/chat/completions", timeout=60,
        headers={"authorization": f"Bearer {world.key}"},
        json={"model": SONNET, "max_tokens": 50, "reasoning": {"max_tokens": 1024},
              "messages": [{"role": "user", "content": "Think it through. [sim:tokens=1500]"}],
              "plugins": [{"id": "fusion", "analysis_models": [SONNET], "model": SONNET}]})
    assert answer.status_code == 402, answer.text
    state = world.account()
    assert state["spent"] == 0 and state.get("reserved", 0) == 0
