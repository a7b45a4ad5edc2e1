"""Fallback before the first byte: next endpoint, then the next model; attempts are recorded."""

import httpx
import pytest

from simulator.testing import recent_requests, set_knobs
from tests.gateway.conftest import LLAMA, OPENAI_MODEL, World

HELLO = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize("stream", [False, True])
def test_a_failing_provider_falls_back_to_the_next(world: World, stream: bool):
    set_knobs(world.sim, "deepinfra", error_rate=1.0, error_statuses=[500])
    body = {"model": LLAMA, "messages": HELLO, "stream": stream,
            "provider": {"order": ["deepinfra", "together"]}}
    response = httpx.post(world.url + "/api/v1/chat/completions", json=body, timeout=30,
                          headers={"authorization": f"Bearer {world.key}"})
    assert response.status_code == 200
    (event,) = world.events()
    assert event["provider"] == "together"
    assert [(a["provider"], a["status"]) for a in event["provider_responses"]] == [
        ("deepinfra", 500), ("together", 200)]
    assert world.account()["reserved"] == 0


def test_models_list_moves_on_to_the_next_model(world: World):
    set_knobs(world.sim, "openai", rate_limit_rate=1.0)
    completion = world.client().chat.completions.create(
        model=OPENAI_MODEL, messages=HELLO, extra_body={"models": [OPENAI_MODEL, LLAMA]})
    assert completion.model == LLAMA


def test_allow_fallbacks_false_returns_the_first_failure(world: World):
    set_knobs(world.sim, "deepinfra", error_rate=1.0, error_statuses=[500])
    response = httpx.post(
        world.url + "/api/v1/chat/completions", timeout=30,
        headers={"authorization": f"Bearer {world.key}"},
        json={"model": LLAMA, "messages": HELLO,
              "provider": {"order": ["deepinfra"], "allow_fallbacks": False}})
    assert response.status_code == 502
    assert recent_requests(world.sim, "together") == []
    assert world.events() == []


def test_free_variant_uses_only_free_endpoints_and_costs_nothing(world: World):
    completion = world.client().chat.completions.create(model=LLAMA + ":free", messages=HELLO)
    assert completion.model == LLAMA + ":free"
    (event,) = world.events()
    assert event["provider"] == "chutes" and event["cost_nanos"] == 0
    assert all(r["provider"] != "chutes" for r in recent_requests(world.sim)[:-1])
