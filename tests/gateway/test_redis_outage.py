"""The gateway with Redis in trouble: it answers 503 fast instead of hanging, never hands out
credit it cannot account for, and charges every generation that reached its user exactly once,
even when Redis froze in the middle of it or a decoder broke."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from django.contrib.auth.models import User

from billing.ledger import balance
from gateway import keys as gw_keys
from gateway.app import Gateway
from gateway.config import Settings
from gateway.providers import openai as openai_adapter
from simulator.testing import set_knobs
from tests.aio import run
from tests.gateway.conftest import (
    LLAMA,
    OPENAI_MODEL,
    account,
    default_models,
    key_hash,
    publish_account,
    publish_catalog,
    publish_key,
    usage_events,
)
from tests.gateway.redis_servers import RedisServer, redis_server
from tests.servers import serve_asgi
from usage.metering import Consumer
from usage.models import Generation

TIMEOUT = 0.5


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


def gateway_on(server: RedisServer, spool: Path) -> Gateway:
    return Gateway(Settings(redis_url=server.url(0), redis_timeout=TIMEOUT,
                            spool_dir=str(spool)))


def post(url: str, key: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return httpx.post(url + "/api/v1/chat/completions", json=body, timeout=30,
                      headers={"authorization": f"Bearer {key}"}, **kwargs)


def wait_for(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


CHAT = {"model": OPENAI_MODEL, "max_tokens": 50,
        "messages": [{"role": "user", "content": "[sim:tokens=5] hi"}]}


def test_a_frozen_redis_gets_a_fast_503_and_service_resumes(own_redis: RedisServer, sim: str,
                                                             tmp_path: Path) -> None:
    client = own_redis.client()
    client.set(gw_keys.READY, 1)
    publish_catalog(client, default_models(sim))
    publish_account(client)
    key = publish_key(client)
    with serve_asgi(gateway_on(own_redis, tmp_path)) as url:
        assert post(url, key, CHAT).status_code == 200
        time.sleep(0.6)  # past the in-process key cache: the next request needs Redis
        own_redis.freeze()
        try:
            started = time.monotonic()
            frozen = post(url, key, CHAT)
            waited = time.monotonic() - started
        finally:
            own_redis.thaw()
        assert frozen.status_code == 503, frozen.text
        assert frozen.headers["retry-after"] == "1"
        assert frozen.json()["error"]["metadata"]["error_type"] == "state_unavailable"
        assert waited < 3 * TIMEOUT + 0.5
        assert post(url, key, CHAT).status_code == 200
    assert account(client)["reserved"] == 0


def test_lost_state_fails_closed(redis_client: Any, sim: str, tmp_path: Path) -> None:
    """After a FLUSHALL (or a restore from an old snapshot) nothing is spendable until the
    web side has published the ledger again, and unknown keys are 'retry', not 'no such key'."""
    from django.conf import settings

    publish_catalog(redis_client, default_models(sim))
    key = publish_key(redis_client)
    redis_client.hset(gw_keys.account(1), mapping={"active": 1, "credits": 10**10})  # no spent
    gateway = Gateway(Settings(redis_url=settings.REDIS_URL, spool_dir=str(tmp_path)))
    with serve_asgi(gateway) as url:
        refused = post(url, key, CHAT)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["metadata"]["error_type"] == "state_unavailable"

        redis_client.delete(gw_keys.READY)
        unknown = post(url, "sk-or-v1-" + "0" * 64, CHAT)
        assert unknown.status_code == 503
        assert unknown.json()["error"]["metadata"]["error_type"] == "state_unavailable"

        redis_client.set(gw_keys.READY, 1)
        time.sleep(0.6)  # the in-process cache remembers an answer for 0.5 s
        assert post(url, "sk-or-v1-" + "0" * 64, CHAT).status_code == 401
        redis_client.hsetnx(gw_keys.account(1), "spent", 0)
        assert post(url, key, CHAT).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_redis_frozen_mid_stream_the_generation_is_charged_once_and_metered(
        own_redis: RedisServer, sim: str, tmp_path: Path) -> None:
    user = User.objects.create_user("ada", "ada@example.com", "pw-ada-123456")
    client = own_redis.client()
    client.set(gw_keys.READY, 1)
    publish_catalog(client, default_models(sim))
    publish_account(client, user_id=user.pk)
    key = publish_key(client, user_id=user.pk)
    set_knobs(sim, "deepinfra", tokens_per_second=100)
    body = {"model": LLAMA, "stream": True, "provider": {"order": ["deepinfra"]},
            "max_tokens": 500, "messages": [{"role": "user", "content": "[sim:tokens=60] go"}]}
    with serve_asgi(gateway_on(own_redis, tmp_path)) as url:
        chunks: list[bytes] = []
        with httpx.stream("POST", url + "/api/v1/chat/completions", json=body, timeout=30,
                          headers={"authorization": f"Bearer {key}"}) as resp:
            for line in resp.iter_lines():
                if not line.startswith("data: "):
                    continue
                if not chunks:
                    own_redis.freeze()  # the answer has begun; Redis stalls until it ends
                chunks.append(line.encode())
        assert chunks[-1] == b"data: [DONE]"
        final = orjson.loads([c for c in chunks if b'"usage"' in c][-1][6:])
        cost = round(final["usage"]["cost"] * 1e9)
        assert cost > 0
        spooled = list(tmp_path.glob("settle-*.jsonl"))
        assert spooled and spooled[0].read_bytes().count(b"\n") == 1
        own_redis.thaw()
        # The gateway replays its spool once Redis answers again.
        events = wait_for(lambda: usage_events(client))
        wait_for(lambda: not list(tmp_path.glob("settle-*")))
    (event,) = events
    assert event["cost_nanos"] == cost
    state = account(client, user.pk)
    assert state["spent"] == cost and state["reserved"] == 0
    assert Consumer(client, name="test-meter").drain() == 1
    generation = Generation.objects.get()
    assert generation.id == event["id"] and round(generation.cost * 10**9) == cost
    assert round(balance(user.pk).usage * 10**9) == cost


def test_a_replayed_settle_is_not_charged_twice(redis_client: Any, sim: str,
                                                tmp_path: Path) -> None:
    """A settle whose reply was lost did run: replaying it from the spool charges nothing."""
    from gateway.metering import Hold, Meter
    from gateway.redis_client import Redis
    from gateway.spool import Spool

    publish_account(redis_client, user_id=3)
    key = publish_key(redis_client, user_id=3)

    async def scenario() -> int:
        from django.conf import settings

        client = Redis.from_url(settings.REDIS_URL)
        spool = Spool(tmp_path)
        meter = Meter(client, 3600, spool)
        hold = Hold("gen-1-replayed", "3", key_hash(key))
        await meter.reserve(hold, 5000, None, "", max_tokens=1, completion_price_nanos=1)
        record = hold.record
        await meter.settle(hold, 1234, "gen-1-replayed", b'{"id": "gen-1-replayed"}')
        # As if the reply had been lost: the same call was also spooled.
        spool.write(
            [gw_keys.account(3), gw_keys.key_usage(3, hold.key_hash),
             gw_keys.generation(3, "gen-1-replayed"), gw_keys.usage_stream(3),
             gw_keys.holds(3)],
            [5000, 1234, "d:x", "w:x", "m:x", '{"id": "gen-1-replayed"}', 60, record, 1])
        replayed = await spool.replay(meter.replay)
        await client.aclose()
        return replayed

    assert run(scenario()) == 1
    state = account(redis_client, 3)
    assert state["spent"] == 1234 and state["reserved"] == 0
    assert redis_client.xlen(gw_keys.usage_stream(3)) == 1
    assert not list(tmp_path.glob("settle-*"))


def test_a_decoder_that_breaks_mid_stream_still_charges_once(
        world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = openai_adapter.OpenAIDecoder.feed
    calls = {"n": 0}

    def breaks_after_ten(self: Any, event: str | None, data: bytes) -> Any:
        calls["n"] += 1
        if calls["n"] > 10:
            raise RuntimeError("a decoder bug")
        return original(self, event, data)

    monkeypatch.setattr(openai_adapter.OpenAIDecoder, "feed", breaks_after_ten)
    body = {**CHAT, "stream": True, "max_tokens": 200,
            "messages": [{"role": "user", "content": "[sim:tokens=100] go"}]}
    lines = [line for line in post(world.url, world.key, body).text.splitlines()
             if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    error = orjson.loads(lines[-2][6:])
    assert error["error"]["metadata"]["error_type"] == "provider_unavailable"
    (event,) = world.events()
    assert event["finish_reason"] == "error" and event["cost_nanos"] > 0
    assert event["tokens_completion"] > 0
    state = world.account()
    assert state["spent"] == event["cost_nanos"] and state["reserved"] == 0
