"""Live endpoint statistics: recorded per attempt, shared through Redis, read by the router.

Recording is cheap on the request path: `record` only bumps in-process counters; a background
flush writes them to Redis a few times a second (one pipelined burst for all endpoints), so
every worker's observations end up in the same keys and survive restarts. The router reads a
`View` refreshed from Redis at most once a second, also in the background: a request never
waits on statistics.

Keys (docs/gateway-state.md, "Live endpoint statistics"; names in `gateway.keys`-style
helpers below):
- `gw:epstats:{<id>}:m:<unix minute>` hash, 2 h: `n`, `fail`, `e:<kind>`, and histograms
  `t:<bin>` (time to first token), `l:<bin>` (latency), `p:<bin>` (throughput).
- `gw:epstats:{<id>}:s:<unix second // 10>` hash, 2 min: `n`, `fail`, `t:`, `p:`
  (the last 30 seconds: health and recent figures).
- `gw:epstats:{<id>}:d:<unix day>` hash, 32 days: `<hour>:n`, `<hour>:fail`, `<hour>:ttft`
  (sum of ms), `<hour>:ttft_n`: per-hour uptime and mean latency for pages and charts.
- `gw:epstats:active` sorted set: endpoint id scored by the last time it was recorded.

Histograms use logarithmic bins (15% wide), so a percentile is exact to within ~7%, and
merging windows or workers is adding counts.
"""

import asyncio
import functools
import logging
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.keys import PROBES_FAILING
from gateway.redis_client import Redis
from gateway.sightings import Sightings

log = logging.getLogger(__name__)

PREFIX = "gw:epstats:"
ACTIVE = "gw:epstats:active"
MINUTE_TTL = 2 * 3600
SLOT_TTL = 120
DAY_TTL = 32 * 86400
SLOT_SECONDS = 10
PERCENTILES = ("p50", "p75", "p90", "p99")
BIN_BASE = 1.15
_LOG_BASE = math.log(BIN_BASE)
# Throughput is binned in tenths of a token per second so slow endpoints keep resolution.
TPS_SCALE = 10.0

# Failure kinds that count against an endpoint's uptime and health: the provider failed.
# "client" (a 4xx the request itself caused) is counted but is not the provider's fault.
PROVIDER_FAILURES = frozenset({"5xx", "429", "timeout", "connection", "midstream", "invalid"})

# Health over the last 30 s: an endpoint is "recently failing" once it has at least this many
# failures there and they are at least this share of its requests.
HEALTH_WINDOW = 30.0
FAILING_MIN = 3
FAILING_SHARE = 0.5
# This process alone marks an endpoint failing after this many failures in a row (three
# endpoints at 20% errors do that 0.03% of the time; a dead one at once).
FAILING_STREAK = 5


# KEYS: one endpoint's statistics hashes (one hash slot: they share the endpoint's tag).
# ARGV, per key in order: its TTL, the number of pairs, then field, amount, field, amount, ...
ADD = """
local j = 1
for k = 1, #KEYS do
  local ttl, n = ARGV[j], tonumber(ARGV[j + 1])
  j = j + 2
  for _ = 1, n do
    redis.call('HINCRBY', KEYS[k], ARGV[j], ARGV[j + 1])
    j = j + 2
  end
  redis.call('EXPIRE', KEYS[k], ttl)
end
return 1
"""


def _ttl(key: str) -> int:
    return SLOT_TTL if ":s:" in key else (MINUTE_TTL if ":m:" in key else DAY_TTL)


# An endpoint's keys share the hash tag {<id>}, so one script call per endpoint adds a whole
# flush's counters to them on a Redis Cluster as well.
def minute_key(endpoint_id: int, minute: int) -> str:
    return f"{PREFIX}{{{endpoint_id}}}:m:{minute}"


def slot_key(endpoint_id: int, slot: int) -> str:
    return f"{PREFIX}{{{endpoint_id}}}:s:{slot}"


def day_key(endpoint_id: int, day: int) -> str:
    return f"{PREFIX}{{{endpoint_id}}}:d:{day}"


def to_bin(value: float, scale: float = 1.0) -> int:
    scaled = value * scale
    if scaled < 1:
        return 0
    return int(math.log(scaled) / _LOG_BASE) + 1


def from_bin(index: int, scale: float = 1.0) -> float:
    """A bin's representative value (its geometric middle)."""
    if index <= 0:
        return 0.5 / scale
    return BIN_BASE ** (index - 0.5) / scale


def percentiles(hist: Mapping[int, int], scale: float = 1.0, *, descending: bool = False
                ) -> dict[str, float] | None:
    """p50..p99 of a binned histogram. `descending` for throughput, where p99 means the slow
    tail (the reference's example lists throughput p99 below p50)."""
    total = sum(hist.values())
    if total <= 0:
        return None
    order = sorted(hist, reverse=descending)
    out: dict[str, float] = {}
    for name in PERCENTILES:
        rank = total * int(name[1:]) / 100
        seen = 0
        for index in order:
            seen += hist[index]
            if seen >= rank:
                out[name] = round(from_bin(index, scale), 1)
                break
    return out


def failure_kind(status: int) -> str:
    """The kind under which an upstream status is counted."""
    if status == 429:
        return "429"
    if status == 504 or status == 408:
        return "timeout"
    if status >= 500:
        return "5xx"
    return "client"


@dataclass(frozen=True)
class Live:
    """What the router knows of one endpoint: recent percentiles and 30-second health."""

    ttft: dict[str, float] | None = None  # ms, the worse of the 5-minute and last-minute figures
    throughput: dict[str, float] | None = None  # tokens/s, likewise
    failing: bool = False
    requests: int = 0  # in the 5-minute window


NO_DATA = Live()


class View(dict[int, Live]):
    """Endpoint id -> Live; endpoints never seen are NO_DATA."""

    def __missing__(self, key: int) -> Live:
        return NO_DATA

    # Endpoints failing the quality probes (marketplace/probes.py): routed like failing ones.
    screened: frozenset[int] = frozenset()

    @functools.cached_property
    def failing(self) -> frozenset[int]:
        """Ids of the recently failing endpoints and of those failing quality probes (a view is
        never changed once published)."""
        return frozenset(endpoint_id for endpoint_id, live in self.items()
                         if live.failing) | self.screened


class Stats:
    def __init__(self, redis: Redis, flush_seconds: float = 0.25,
                 refresh_seconds: float = 1.0) -> None:
        self.redis = redis
        self.flush_seconds = flush_seconds
        self.refresh_seconds = refresh_seconds
        self.view = View()
        # Observations not yet flushed: (endpoint id, unix time, kind, latency, ttft, tps).
        # Appending a tuple is all the request path pays; the flush aggregates them.
        self._observed: list[Observation] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._refresh_task: asyncio.Task[None] | None = None
        self._next_refresh = 0.0
        # This process's own failure streaks: endpoint id -> (consecutive failures, time of
        # the last). A streak marks an endpoint failing here at once, before the shared
        # figures come back from Redis, and only for the health window.
        self._streaks: dict[int, tuple[int, float]] = {}
        self._add = redis.register_script(ADD)
        # Finish reasons and error types seen for the first time (gateway/sightings.py).
        self.sightings = Sightings(redis)
        # Endpoints being tried again after failing: one more failure marks them again, so a
        # dead endpoint costs one attempt per health window, not a fresh streak.
        self._probation: set[int] = set()

    # -- recording (request path) ---------------------------------------------------------

    def record(self, endpoint_id: int, kind: str, *, latency_ms: float | None = None,
               ttft_ms: float | None = None, tokens_per_second: float | None = None) -> None:
        """One attempt's outcome: kind "ok" or a failure kind (`failure_kind`, "midstream")."""
        now = time.time()
        self._observed.append((endpoint_id, now, kind, latency_ms, ttft_ms, tokens_per_second))
        if kind in PROVIDER_FAILURES:
            streak = self._streaks.get(endpoint_id)
            count = FAILING_STREAK if endpoint_id in self._probation else (
                (streak[0] if streak else 0) + 1)
            self._streaks[endpoint_id] = (count, now)
        elif kind == "ok":
            if endpoint_id in self._streaks:
                del self._streaks[endpoint_id]
            self._probation.discard(endpoint_id)
        if self._flush_task is None:
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    def settled(self, endpoint_id: int, attempts: list[dict[str, Any]], latency_ms: float,
                completion_tokens: int, streaming_ms: float | None, *, failed: bool,
                cancelled: bool) -> None:
        """The serving attempt of a generation, once it ended. Its time to first token is the
        attempt's own (earlier failed attempts are not this endpoint's doing); throughput is
        tokens over streaming time, or over the whole call when not streamed."""
        spent_before = sum(a.get("latency_ms", 0) for a in attempts[:-1])
        ttft = attempts[-1].get("latency_ms") if attempts else None
        own_latency = max(latency_ms - spent_before, 0.0)
        duration = streaming_ms if streaming_ms is not None else own_latency
        tps = None
        if completion_tokens > 1 and duration and duration > 0 and not cancelled:
            tps = completion_tokens / (duration / 1000)
        self.record(endpoint_id, "midstream" if failed else "ok", latency_ms=own_latency,
                    ttft_ms=None if ttft is None else float(ttft), tokens_per_second=tps)

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()
        finally:
            self._flush_task = None

    async def flush(self) -> None:
        observed, self._observed = self._observed, []
        if not observed:
            return
        fields = aggregate(observed)
        per_key: dict[str, list[Any]] = {}
        for (key, name), amount in fields.items():
            per_key.setdefault(key, []).extend((name, amount))
        per_endpoint: dict[str, tuple[list[str], list[Any]]] = {}
        for key, pairs in per_key.items():
            tag = key[len(PREFIX):key.index("}") + 1]
            keys, args = per_endpoint.setdefault(tag, ([], []))
            keys.append(key)
            args.extend((_ttl(key), len(pairs) // 2, *pairs))
        # One script call per endpoint (all its counters and expiries), not one per field.
        calls = [self._add(keys=keys, args=args) for keys, args in per_endpoint.values()]
        last_seen = {endpoint_id: int(at) for endpoint_id, at, *_ in observed}
        active = [x for endpoint_id, at in last_seen.items() for x in (at, endpoint_id)]
        calls.append(self.redis.execute("ZADD", ACTIVE, *active))
        results = await asyncio.gather(*calls, return_exceptions=True)
        errors = [r for r in results if isinstance(r, Exception)]
        if errors:
            # Statistics are not money: losing a quarter second of them is acceptable.
            log.warning("endpoint stats flush failed: %s", errors[0])

    # -- the router's view ----------------------------------------------------------------

    def current(self) -> View:
        """The latest view, refreshing it in the background when it is older than a second."""
        now = time.monotonic()
        if now >= self._next_refresh and self._refresh_task is None:
            self._next_refresh = now + self.refresh_seconds
            self._refresh_task = asyncio.get_running_loop().create_task(self._refresh())
        if not self._streaks:
            return self.view
        wall = time.time()
        failing = []
        for endpoint_id, (count, last) in list(self._streaks.items()):
            if wall - last > HEALTH_WINDOW:
                del self._streaks[endpoint_id]  # tried again from now on
                if count >= FAILING_STREAK:
                    self._probation.add(endpoint_id)
            elif count >= FAILING_STREAK:
                failing.append(endpoint_id)
        if not failing:
            return self.view
        view = View(self.view)
        view.screened = self.view.screened
        for endpoint_id in failing:
            view[endpoint_id] = _failing(view[endpoint_id])
        return view

    async def _refresh(self) -> None:
        try:
            self.view = await read_view(self.redis, time.time())
        except Exception as exc:  # keep routing on the last view; Redis may come back
            log.warning("endpoint stats refresh failed: %s", exc)
        finally:
            self._refresh_task = None


Observation = tuple[int, float, str, float | None, float | None, float | None]


def aggregate(observed: list[Observation]) -> dict[tuple[str, str], int]:
    """HINCRBY amounts per (key, field) for a batch of observations."""
    fields: dict[tuple[str, str], int] = {}
    get = fields.get
    names: dict[tuple[int, int, int, int], tuple[str, str, str, str]] = {}
    for endpoint_id, now, kind, latency_ms, ttft_ms, tps in observed:
        second = int(now)
        # Key names are built once per endpoint and ten seconds, not once per observation.
        cached = (endpoint_id, second // SLOT_SECONDS, 0, 0)
        keys = names.get(cached)
        if keys is None:
            keys = names[cached] = (
                minute_key(endpoint_id, second // 60),
                slot_key(endpoint_id, second // SLOT_SECONDS),
                day_key(endpoint_id, second // 86400), str(second % 86400 // 3600))
        minute, slot, day, hour = keys
        updates = [(minute, "n"), (slot, "n"), (day, hour + ":n")]
        if kind != "ok":
            updates.append((minute, "e:" + kind))
            if kind in PROVIDER_FAILURES:
                updates += [(minute, "fail"), (slot, "fail"), (day, hour + ":fail")]
        if ttft_ms is not None:
            ttft_bin = f"t:{to_bin(ttft_ms)}"
            updates += [(minute, ttft_bin), (slot, ttft_bin), (day, hour + ":ttft_n")]
            fields[(day, hour + ":ttft")] = get((day, hour + ":ttft"), 0) + round(ttft_ms)
        if latency_ms is not None:
            updates.append((minute, f"l:{to_bin(latency_ms)}"))
        if tps is not None:
            tps_bin = f"p:{to_bin(tps, TPS_SCALE)}"
            updates += [(minute, tps_bin), (slot, tps_bin)]
        for update in updates:
            fields[update] = get(update, 0) + 1
    return fields


def _failing(live: Live) -> Live:
    return Live(live.ttft, live.throughput, True, live.requests)


def _hist(rows: Iterable[dict[bytes, bytes]], prefix: bytes) -> dict[int, int]:
    hist: dict[int, int] = {}
    for row in rows:
        for name, value in row.items():
            if name.startswith(prefix):
                index = int(name[len(prefix):])
                hist[index] = hist.get(index, 0) + int(value)
    return hist


def _worse(window: dict[str, float] | None, recent: dict[str, float] | None,
           higher_is_better: bool) -> dict[str, float] | None:
    if window is None or recent is None:
        return window or recent
    pick = min if higher_is_better else max
    return {name: pick(window[name], recent[name]) for name in PERCENTILES}


async def read_view(redis: Redis, now: float) -> View:
    """Routing figures of every endpoint recorded in the last five minutes."""
    ids = [int(i) for i in await redis.execute(
        "ZRANGEBYSCORE", ACTIVE, int(now) - 300, "+inf")]
    view = View()
    view.screened = frozenset(int(i) for i in await redis.execute("SMEMBERS", PROBES_FAILING))
    if not ids:
        return view
    minute = int(now // 60)
    slot = int(now // SLOT_SECONDS)
    slots = [slot - i for i in range(HEALTH_WINDOW_SLOTS)]
    calls: list[Any] = []
    for endpoint_id in ids:
        calls.extend(redis.execute("HGETALL", minute_key(endpoint_id, minute - i))
                     for i in range(6))
        calls.extend(redis.execute("HGETALL", slot_key(endpoint_id, s)) for s in slots)
    flat = await asyncio.gather(*calls)
    per = 6 + len(slots)
    for n, endpoint_id in enumerate(ids):
        rows = [dict(zip(r[::2], r[1::2], strict=True)) for r in flat[n * per:(n + 1) * per]]
        minutes, health = rows[:6], rows[6:]
        ttft = percentiles(_hist(minutes, b"t:"))
        tps = percentiles(_hist(minutes, b"p:"), TPS_SCALE, descending=True)
        # The last 30 seconds as well (else the last two minutes), so an endpoint that turns
        # slow loses its rank within a minute: by request count, its fast past would otherwise
        # outweigh its slow present for minutes, a fast endpoint serving more requests a second.
        recent = health if any(r.get(b"n") for r in health) else minutes[:2]
        ttft = _worse(ttft, percentiles(_hist(recent, b"t:")), higher_is_better=False)
        tps = _worse(tps, percentiles(_hist(recent, b"p:"), TPS_SCALE, descending=True),
                     higher_is_better=True)
        count = sum(int(r.get(b"n", 0)) for r in health)
        fails = sum(int(r.get(b"fail", 0)) for r in health)
        failing = fails >= FAILING_MIN and fails >= FAILING_SHARE * count
        requests = sum(int(r.get(b"n", 0)) for r in minutes)
        view[endpoint_id] = Live(ttft, tps, failing, requests)
    return view


HEALTH_WINDOW_SLOTS = int(HEALTH_WINDOW // SLOT_SECONDS)
