"""Live numbers the catalog shows but does not own.

`endpoint_stats` reads the gateway's live endpoint statistics (`gw:epstats:<id>:…`, written
by gateway/stats.py, described in docs/gateway-state.md) in one pipelined round trip: the
published windows of reference §8.3 (latency and throughput percentiles over 30 minutes,
uptime over 5 minutes, 30 minutes and a day) plus a 30-day uptime for pages. `daily_history`
gives a chart's per-day uptime and mean time to first token. The key names and the histogram
format belong to gateway/stats.py, so they are imported from there rather than copied.
`weekly_tokens` is the rankings' seam (tokens per model over the last 7 days).
Without Redis, or before any traffic, every figure is "no data": "—" on pages, null in the API.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from config.redis import get_redis
from gateway.stats import TPS_SCALE, day_key, minute_key, percentiles

log = logging.getLogger(__name__)

WINDOW_MINUTES = 30
HISTORY_DAYS = 30


@dataclass(frozen=True)
class EndpointStats:
    latency_last_30m: dict[str, float] | None = None  # ms to first token: p50, p75, p90, p99
    throughput_last_30m: dict[str, float] | None = None  # tokens/s: p50, p75, p90, p99
    uptime_last_5m: float | None = None  # percent
    uptime_last_30m: float | None = None
    uptime_last_1d: float | None = None
    uptime_last_30d: float | None = None  # pages only; not part of the API's shape
    requests_last_30m: int = 0
    errors_last_30m: dict[str, int] | None = None  # by kind: 5xx, 429, timeout, ...

    def as_api(self) -> dict[str, Any]:
        return {
            # The reference's status: 0 when fine, negative when degraded (-1) or mostly
            # failing (-2) over the last five minutes.
            "status": _status(self.uptime_last_5m),
            "latency_last_30m": self.latency_last_30m,
            "throughput_last_30m": self.throughput_last_30m,
            "uptime_last_5m": self.uptime_last_5m,
            "uptime_last_30m": self.uptime_last_30m,
            "uptime_last_1d": self.uptime_last_1d,
        }


NO_STATS = EndpointStats()


def _status(uptime_5m: float | None) -> int:
    if uptime_5m is None or uptime_5m >= 95:
        return 0
    return -1 if uptime_5m >= 50 else -2


def _rows(raw: list[dict[bytes, bytes]]) -> list[dict[str, int]]:
    return [{k.decode(): int(v) for k, v in row.items()} for row in raw]


def _uptime(total: int, failed: int) -> float | None:
    if total <= 0:
        return None
    return round(100 * (total - failed) / total, 2)


def _hist(rows: list[dict[str, int]], prefix: str) -> dict[int, int]:
    hist: dict[int, int] = {}
    for row in rows:
        for name, value in row.items():
            if name.startswith(prefix):
                index = int(name[len(prefix):])
                hist[index] = hist.get(index, 0) + value
    return hist


def _hours(days: list[dict[str, int]], first_day: int, now: float, hours: int) -> tuple[int, int]:
    """Requests and failures over the last `hours` hours, from per-day hashes of hour fields."""
    since = int(now // 3600) - hours + 1
    total = failed = 0
    for offset, row in enumerate(days):
        base = (first_day + offset) * 24
        for name, value in row.items():
            hour, _, field = name.partition(":")
            if base + int(hour) < since:
                continue
            if field == "n":
                total += value
            elif field == "fail":
                failed += value
    return total, failed


def _fetch(keys: list[str]) -> list[dict[bytes, bytes]] | None:
    try:
        pipe = get_redis().pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        return list(pipe.execute())
    except redis.RedisError as exc:
        log.warning("live endpoint stats unavailable: %s", exc)
        return None


def endpoint_stats(endpoint_ids: Iterable[int]) -> dict[int, EndpointStats]:
    """Live stats per endpoint id, in one pipelined Redis round trip."""
    ids = list(endpoint_ids)
    now = time.time()
    minute, today = int(now // 60), int(now // 86400)
    first_day = today - HISTORY_DAYS
    keys: list[str] = []
    for endpoint_id in ids:
        keys.extend(minute_key(endpoint_id, minute - i) for i in range(WINDOW_MINUTES))
        keys.extend(day_key(endpoint_id, d) for d in range(first_day, today + 1))
    raw = _fetch(keys) if ids else []
    if raw is None:
        return {endpoint_id: NO_STATS for endpoint_id in ids}
    per = WINDOW_MINUTES + HISTORY_DAYS + 1
    out = {}
    for n, endpoint_id in enumerate(ids):
        rows = _rows(raw[n * per:(n + 1) * per])
        minutes, days = rows[:WINDOW_MINUTES], rows[WINDOW_MINUTES:]
        recent = minutes[:5]
        errors: dict[str, int] = {}
        for row in minutes:
            for name, value in row.items():
                if name.startswith("e:"):
                    errors[name[2:]] = errors.get(name[2:], 0) + value
        requests = sum(r.get("n", 0) for r in minutes)
        out[endpoint_id] = EndpointStats(
            latency_last_30m=percentiles(_hist(minutes, "t:")),
            throughput_last_30m=percentiles(_hist(minutes, "p:"), TPS_SCALE, descending=True),
            uptime_last_5m=_uptime(sum(r.get("n", 0) for r in recent),
                                   sum(r.get("fail", 0) for r in recent)),
            uptime_last_30m=_uptime(requests, sum(r.get("fail", 0) for r in minutes)),
            uptime_last_1d=_uptime(*_hours(days, first_day, now, 24)),
            uptime_last_30d=_uptime(*_hours(days, first_day, now, 24 * HISTORY_DAYS)),
            requests_last_30m=requests,
            errors_last_30m=errors or None,
        )
    return out


def daily_history(endpoint_ids: Iterable[int], days: int = HISTORY_DAYS
                  ) -> dict[int, list[dict[str, Any]]]:
    """Per endpoint, one entry per UTC day with traffic: date, requests, uptime (percent) and
    mean time to first token (ms), oldest first, for the uptime/latency charts."""
    ids = list(endpoint_ids)
    today = int(time.time() // 86400)
    span = list(range(today - days + 1, today + 1))
    raw = _fetch([day_key(e, d) for e in ids for d in span]) if ids else []
    if raw is None:
        return {e: [] for e in ids}
    out: dict[int, list[dict[str, Any]]] = {}
    for n, endpoint_id in enumerate(ids):
        series = []
        for day, row in zip(span, _rows(raw[n * len(span):(n + 1) * len(span)]), strict=True):
            sums: dict[str, int] = {}
            for name, value in row.items():
                field = name.partition(":")[2]
                sums[field] = sums.get(field, 0) + value
            if not sums.get("n"):
                continue
            ttft_n = sums.get("ttft_n", 0)
            series.append({
                "date": time.strftime("%Y-%m-%d", time.gmtime(day * 86400)),
                "requests": sums["n"],
                "uptime": _uptime(sums["n"], sums.get("fail", 0)),
                "latency_ms": round(sums.get("ttft", 0) / ttft_n) if ttft_n else None,
            })
        out[endpoint_id] = series
    return out


def provider_status(stats: Iterable[EndpointStats]) -> dict[str, Any]:
    """One line for a provider across its endpoints, from the last 30 minutes of traffic."""
    seen = [s for s in stats if s.requests_last_30m]
    if not seen:
        return {"state": "unknown", "label": "No recent traffic", "uptime": None}
    total = sum(s.requests_last_30m for s in seen)
    ok = sum(s.requests_last_30m * (s.uptime_last_30m or 0) / 100 for s in seen)
    uptime = round(100 * ok / total, 2)
    if uptime >= 99:
        state, label = "ok", "Operational"
    elif uptime >= 50:
        state, label = "degraded", "Degraded"
    else:
        state, label = "down", "Major outage"
    return {"state": state, "label": label, "uptime": uptime, "requests": total}


def weekly_tokens() -> dict[str, int]:
    """Prompt + completion tokens per model id over the last 7 days (rankings snapshots)."""
    from rankings.leaderboards import weekly_tokens as ranked

    return ranked()
