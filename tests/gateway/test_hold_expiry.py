"""A reservation never leaks: every hold is recorded in its shard's `gw:{s<k>}:holds` until it
settles, and the sweeper gives back the holds of a gateway that died mid-request, exactly once."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from django.conf import settings

from billing.holds import release_expired
from billing.tasks import release_expired_holds
from config.redis import get_redis
from gateway import keys as gw_keys
from gateway.metering import Hold, Meter
from gateway.redis_client import Redis
from simulator.testing import set_knobs
from tests.aio import run
from tests.gateway.conftest import (
    LLAMA,
    World,
    account,
    key_hash,
    publish_account,
    publish_key,
)
from tests.servers import ROOT, free_port


def slow_stream(tokens: int = 1000) -> dict[str, Any]:
    return {"model": LLAMA, "stream": True, "provider": {"order": ["deepinfra"]},
            "max_tokens": 2000,
            "messages": [{"role": "user", "content": f"[sim:tokens={tokens}] go"}]}


def holds(client: Any) -> list[tuple[str, float]]:
    """Every hold record of every shard."""
    return [(m.decode(), s) for name in gw_keys.all_holds()
            for m, s in client.zrange(name, 0, -1, withscores=True)]


def key_reserved(client: Any, key: str, user_id: int = 1) -> int:
    return int(client.hget(gw_keys.key_usage(user_id, key_hash(key)), "reserved") or 0)


def wait_for(condition: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return result


@contextmanager
def streaming(url: str, key: str, body: dict[str, Any]) -> Iterator[httpx.Response]:
    """A stream whose first chunk has arrived: the request is in flight."""
    with httpx.stream("POST", url + "/api/v1/chat/completions", json=body, timeout=30,
                      headers={"authorization": f"Bearer {key}"}) as resp:
        assert resp.status_code == 200
        chunks = resp.iter_bytes()
        while b"data: {" not in next(chunks):
            pass
        yield resp
        for _ in chunks:
            pass


@contextmanager
def gateway_process(**env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The gateway as `make run` starts it, in a process of its own that a test may kill."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "REDIS_URL": settings.REDIS_URL, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        def healthy() -> bool:
            assert process.poll() is None, "the gateway exited"
            try:
                return httpx.get(url + "/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)


def test_a_request_in_flight_holds_its_maximum_cost_until_it_settles(world: World):
    set_knobs(world.sim, "deepinfra", tokens_per_second=200)

    with streaming(world.url, world.key, slow_stream()):
        ((record, deadline),) = holds(world.redis)
        gen_id, amount, usage_key, account_key = record.split("|")
        assert gen_id.startswith("gen-")
        assert usage_key == gw_keys.key_usage(1, key_hash(world.key))
        assert account_key == gw_keys.account(1) == "gw:{s1}:account:1"
        assert int(amount) == world.account()["reserved"] == key_reserved(world.redis,
                                                                          world.key) > 0
        # The default lifetime: an hour from now, by the Redis clock.
        assert deadline == pytest.approx(time.time() + 3600, abs=30)

    wait_for(world.events)
    assert holds(world.redis) == []
    assert world.account()["reserved"] == 0 and key_reserved(world.redis, world.key) == 0
    assert world.account()["spent"] == world.events()[0]["cost_nanos"] > 0

    # A request that is not streamed settles the same way.
    world.client().chat.completions.create(model=LLAMA, max_tokens=50,
                                           messages=[{"role": "user", "content": "hi"}])
    assert len(world.events()) == 2 and holds(world.redis) == []
    assert world.account()["reserved"] == 0 and key_reserved(world.redis, world.key) == 0


def test_a_fallback_to_a_pricier_endpoint_updates_the_record(world: World):
    # deepinfra is the cheapest and fails; together costs more and answers slowly.
    set_knobs(world.sim, "deepinfra", error_rate=1.0)
    set_knobs(world.sim, "together", tokens_per_second=200)
    body = {**slow_stream(), "provider": {"order": ["deepinfra", "together"]}}

    with streaming(world.url, world.key, body):
        ((record, _),) = holds(world.redis)
        amount = int(record.split("|")[1])
        assert amount == world.account()["reserved"] == key_reserved(world.redis, world.key)

    (event,) = wait_for(world.events)
    assert event["provider"] == "together"
    assert [r["provider"] for r in event["provider_responses"]] == ["deepinfra", "together"]
    assert holds(world.redis) == []
    assert world.account()["reserved"] == 0 and key_reserved(world.redis, world.key) == 0


def test_the_holds_of_a_killed_gateway_are_released_after_their_deadline(world: World):
    set_knobs(world.sim, "deepinfra", tokens_per_second=50)
    with gateway_process(GATEWAY_HOLD_LIFETIME="3") as (url, process), \
            pytest.raises(httpx.HTTPError), streaming(url, world.key, slow_stream()):
        process.send_signal(signal.SIGKILL)  # no chance to settle
        process.wait(timeout=10)

    held = world.account()["reserved"]
    assert held > 0 and key_reserved(world.redis, world.key) == held
    assert len(holds(world.redis)) == 1
    # Before its deadline the hold may still belong to a live request: left alone.
    assert release_expired_holds() == 0
    assert world.account()["reserved"] == held

    wait_for(lambda: holds(world.redis)[0][1] < time.time() - 0.1)
    assert release_expired_holds() == 1
    assert holds(world.redis) == []
    assert world.account()["reserved"] == 0 and key_reserved(world.redis, world.key) == 0
    assert world.account().get("spent", 0) == 0 and world.events() == []
    # Running it again (beat fires every minute) changes nothing.
    assert release_expired_holds() == 0
    assert world.account()["reserved"] == 0



def test_settle_racing_the_sweeper_releases_each_hold_exactly_once(redis_client: Any):
    """Holds already past their deadline settle while the sweeper pops them, round after
    round. A request still in flight on the same account and key (never expiring) shows a
    double release: `reserved` would drop below its amount."""
    # Shard 0, the one the sweeper walks first, so that it races the settles.
    publish_account(redis_client, user_id=16, credits_usd=100)
    key = publish_key(redis_client, user_id=16)
    account_key, usage_key = gw_keys.account(16), gw_keys.key_usage(16, key_hash(key))
    rounds, per_round, amount, cost = 40, 25, 1_000_000, 400_000

    async def scenario() -> int:
        client = Redis.from_url(settings.REDIS_URL)
        live = Meter(client, hold_lifetime=3600)
        dying = Meter(client, hold_lifetime=0)
        bystander = Hold("gen-bystander", "16", key_hash(key))
        await live.reserve(bystander, 5 * amount, None, "", max_tokens=1,
                           completion_price_nanos=1)
        swept = 0
        try:
            for round_no in range(rounds):
                batch = [Hold(f"gen-{round_no}-{i}", "16", key_hash(key))
                         for i in range(per_round)]
                await asyncio.gather(*(dying.reserve(h, amount, None, "", max_tokens=1,
                                                     completion_price_nanos=1) for h in batch))
                start = threading.Barrier(2)

                def sweep() -> int:
                    start.wait()
                    return release_expired(get_redis(), batch=1).holds

                sweeper = asyncio.get_running_loop().run_in_executor(None, sweep)
                await asyncio.to_thread(start.wait)
                await asyncio.gather(*(dying.settle(h, cost, h.generation_id, b"{}")
                                       for h in batch))
                swept += await sweeper
                assert int(redis_client.hget(account_key, "reserved")) == 5 * amount
                assert int(redis_client.hget(usage_key, "reserved")) == 5 * amount
            return swept
        finally:
            await client.aclose()

    swept = run(scenario())
    total = rounds * per_round
    # The race really happened both ways: some holds were released by the sweeper, the
    # others by their settle, and none twice (checked every round above).
    assert 0 < swept < total, swept
    balance = account(redis_client, 16)
    assert balance["spent"] == total * cost
    assert balance["reserved"] == 5 * amount
    assert [m for m, _ in holds(redis_client)] == [f"gen-bystander|{5 * amount}|{usage_key}|"
                                                   f"{account_key}"]
    assert redis_client.xlen(gw_keys.usage_stream(0)) == total
    assert orjson.loads(redis_client.get(gw_keys.generation(16, "gen-0-0"))) == {}
