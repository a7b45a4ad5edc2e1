"""`:free` models: 20 requests a minute and 50 (or 1,000) a day per account, exact across
gateway workers, with OpenRouter's 429 headers and a message that says how to raise them."""

import asyncio
from datetime import UTC, datetime

import httpx

from gateway import keys
from gateway.app import Gateway
from tests.aio import run
from tests.gateway.conftest import LLAMA, NANOS, World, gateway_settings, publish_account
from tests.servers import serve_asgi

FREE = LLAMA + ":free"
HELLO = [{"role": "user", "content": "hello"}]


async def _burst(urls: list[str], key: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30) as client:
        return await asyncio.gather(*(
            client.post(urls[i % len(urls)] + "/api/v1/chat/completions",
                        headers={"authorization": f"Bearer {key}"},
                        json={"model": FREE, "messages": HELLO})
            for i in range(count)))


def test_21_concurrent_requests_on_two_workers_get_exactly_one_429(world: World):
    with serve_asgi(Gateway(gateway_settings())) as second:
        responses = run(_burst([world.url, second], world.key, 21))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 20 + [429]
    (limited,) = [r for r in responses if r.status_code == 429]
    assert limited.headers["x-ratelimit-limit"] == "20"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    reset_ms = int(limited.headers["x-ratelimit-reset"])
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert reset_ms > datetime.now(UTC).timestamp() * 1000
    error = limited.json()["error"]
    assert error["code"] == 429 and "free-models-per-min" in error["message"]
    assert error["metadata"]["headers"]["X-RateLimit-Limit"] == "20"


def test_daily_limit_without_purchases_says_how_to_raise_it(world: World):
    publish_account(world.redis, purchased=0)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    world.redis.set(keys.free_day(1, day), 49)
    first = world.client().chat.completions.create(model=FREE, messages=HELLO)
    assert first.model == FREE
    response = httpx.post(world.url + "/api/v1/chat/completions", timeout=30,
                          headers={"authorization": f"Bearer {world.key}"},
                          json={"model": FREE, "messages": HELLO})
    assert response.status_code == 429
    assert response.headers["x-ratelimit-limit"] == "50"
    message = response.json()["error"]["message"]
    assert "free-models-per-day" in message and "add 10 credits" in message
    assert "1000" in message


def test_ten_dollars_bought_lifts_the_daily_limit_to_1000(world: World):
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    world.redis.set(keys.free_day(1, day), 50)
    assert world.client().chat.completions.create(model=FREE, messages=HELLO).model == FREE
    world.redis.set(keys.free_day(1, day), 1000)
    response = httpx.post(world.url + "/api/v1/chat/completions", timeout=30,
                          headers={"authorization": f"Bearer {world.key}"},
                          json={"model": FREE, "messages": HELLO})
    assert response.status_code == 429
    assert "free-models-per-day-high-balance" in response.json()["error"]["message"]


def test_a_limited_free_model_falls_through_to_the_next_model(world: World):
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    world.redis.set(keys.free_day(1, day), 5000)
    completion = world.client().chat.completions.create(
        model=FREE, messages=HELLO, extra_body={"models": [LLAMA]})
    assert completion.model == LLAMA


def test_paid_models_have_no_platform_limit_and_no_ratelimit_headers(world: World):
    responses = run(_paid_burst(world.url, world.key, 25))
    assert {r.status_code for r in responses} == {200}
    assert all("x-ratelimit-limit" not in r.headers for r in responses)


async def _paid_burst(url: str, key: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30) as client:
        return await asyncio.gather(*(
            client.post(url + "/api/v1/chat/completions",
                        headers={"authorization": f"Bearer {key}"},
                        json={"model": LLAMA, "messages": HELLO, "max_tokens": 5})
            for _ in range(count)))


def test_a_negative_balance_blocks_free_models_too(world: World):
    world.redis.hset(keys.account(1), "spent", 11 * NANOS)
    response = httpx.post(world.url + "/api/v1/chat/completions", timeout=30,
                          headers={"authorization": f"Bearer {world.key}"},
                          json={"model": FREE, "messages": HELLO})
    assert response.status_code == 402
