"""Sub-calls of a mixture obey the free-model limits like direct calls: each free sub-call
counts against the account's limits, and over them a free proposer drops out (the mixture
says so) while a direct call gets the 429."""

from datetime import UTC, datetime
from typing import Any

import httpx

from gateway import keys
from tests.gateway.conftest import LLAMA, OPENAI_MODEL, World

FREE = LLAMA + ":free"
HELLO = [{"role": "user", "content": "hello"}]


def post(world: World, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(world.url + "/api/v1/chat/completions", timeout=30,
                      headers={"authorization": f"Bearer {world.key}"},
                      json={"messages": HELLO, "max_tokens": 50, **body})


def fusion(world: World) -> httpx.Response:
    return post(world, {"model": OPENAI_MODEL, "plugins": [
        {"id": "fusion", "analysis_models": [FREE, OPENAI_MODEL], "model": OPENAI_MODEL}]})


def day_count(world: World) -> int:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return int(world.redis.get(keys.free_day(1, day)) or 0)


def test_a_free_sub_call_counts_against_the_free_limits(world: World):
    answer = fusion(world)
    assert answer.status_code == 200, answer.text
    assert answer.json()["moa"]["failed_models"] == []
    assert day_count(world) == 1
    assert world.redis.zcard(keys.free_minute(1)) == 1


def test_over_the_limit_a_free_proposer_drops_out(world: World):
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    world.redis.set(keys.free_day(1, day), 1000)  # the daily limit of an account that paid $10
    assert post(world, {"model": FREE}).status_code == 429
    answer = fusion(world)
    assert answer.status_code == 200, answer.text
    (failed,) = answer.json()["moa"]["failed_models"]
    assert failed["model"] == FREE and "free-models-per-day" in failed["error"]
    assert day_count(world) == 1000


def test_streamed_mixture_over_the_limit_answers_without_the_free_proposer(world: World):
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    world.redis.set(keys.free_day(1, day), 1000)
    answer = post(world, {"model": OPENAI_MODEL, "stream": True, "plugins": [
        {"id": "fusion", "analysis_models": [FREE, OPENAI_MODEL], "model": OPENAI_MODEL}]})
    assert answer.status_code == 200
    lines = [line for line in answer.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    assert '"content"' in answer.text and day_count(world) == 1000
