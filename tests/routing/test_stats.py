"""Live endpoint statistics: recorded in process, flushed to Redis, read back by any worker."""

import time
from typing import Any

from django.conf import settings

from gateway.redis_client import Redis
from gateway.stats import Stats, percentiles, read_view, to_bin
from tests.aio import run


def test_percentiles_of_binned_values_are_within_a_bin():
    values = list(range(1, 1001))
    hist: dict[int, int] = {}
    for v in values:
        hist[to_bin(v)] = hist.get(to_bin(v), 0) + 1
    p = percentiles(hist)
    assert p is not None
    for name, exact in (("p50", 500), ("p75", 750), ("p90", 900), ("p99", 990)):
        assert abs(p[name] - exact) / exact < 0.08, (name, p[name])


def test_throughput_percentiles_run_towards_the_slow_tail():
    hist = {to_bin(100, 10): 90, to_bin(10, 10): 10}
    p = percentiles(hist, 10, descending=True)
    assert p is not None and p["p50"] > 90 and p["p99"] < 11


async def _two_workers() -> tuple[Any, Any]:
    one, two = Redis.from_url(settings.REDIS_URL), Redis.from_url(settings.REDIS_URL)
    a, b = Stats(one, flush_seconds=0.01), Stats(two, flush_seconds=0.01)
    for _ in range(20):
        a.record(7, "ok", latency_ms=800, ttft_ms=200, tokens_per_second=50)
    b.record(8, "ok", latency_ms=500, ttft_ms=100, tokens_per_second=80)
    for _ in range(5):
        b.record(8, "5xx", latency_ms=30)
    await a.flush()
    await b.flush()
    view = await read_view(two, time.time())
    local = b.current()  # this worker already knows endpoint 8 is failing
    await one.aclose()
    await two.aclose()
    return view, local


def test_two_workers_share_one_view(redis_client: Any):
    view, local = run(_two_workers())
    assert view[7].ttft is not None and 180 < view[7].ttft["p50"] < 225
    assert view[7].throughput is not None and 45 < view[7].throughput["p50"] < 56
    assert not view[7].failing and view[7].requests == 20
    assert view[8].failing and view[8].requests == 6
    assert local[8].failing
    assert view[99].ttft is None and not view[99].failing
    minute = int(time.time() // 60)
    row = redis_client.hgetall(f"gw:epstats:{{8}}:m:{minute}")
    assert row[b"n"] == b"6" and row[b"fail"] == b"5" and row[b"e:5xx"] == b"5"
    assert 0 < redis_client.ttl(f"gw:epstats:{{8}}:m:{minute}") <= 7200


async def _streaks(clock: list[float]) -> list[bool]:
    client = Redis.from_url(settings.REDIS_URL)
    stats = Stats(client, flush_seconds=3600, refresh_seconds=3600)
    seen = []
    for _ in range(5):
        stats.record(3, "5xx")
    seen.append(stats.current()[3].failing)  # five in a row: failing here at once
    clock[0] += 31
    seen.append(stats.current()[3].failing)  # the window passed: tried again
    stats.record(3, "timeout")
    seen.append(stats.current()[3].failing)  # on probation: one failure marks it again
    clock[0] += 31
    stats.current()
    stats.record(3, "ok")
    stats.record(3, "5xx")
    seen.append(stats.current()[3].failing)  # recovered: a single failure is not enough
    await client.aclose()
    return seen


def test_a_failure_streak_marks_an_endpoint_for_the_health_window_only(monkeypatch: Any):
    clock = [time.time()]
    monkeypatch.setattr("gateway.stats.time.time", lambda: clock[0])
    assert run(_streaks(clock)) == [True, False, True, False]
