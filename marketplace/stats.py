"""Live numbers the catalog shows but does not own.

Seams for later work: the routing work fills `endpoint_stats` from the gateway's
`gw:epstats:<endpoint id>` hashes (latency, throughput, uptime); the rankings work fills
`weekly_tokens` (tokens per model over the last 7 days, for "popularity" and "trending").
Until then both report "no data", which pages render as "—" and the API as null.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EndpointStats:
    latency_last_30m: dict[str, float] | None = None  # ms to first token: p50, p75, p90, p99
    throughput_last_30m: dict[str, float] | None = None  # tokens/s: p50, p75, p90, p99
    uptime_last_5m: float | None = None  # percent
    uptime_last_30m: float | None = None
    uptime_last_1d: float | None = None

    def as_api(self) -> dict[str, Any]:
        return {
            "latency_last_30m": self.latency_last_30m,
            "throughput_last_30m": self.throughput_last_30m,
            "uptime_last_5m": self.uptime_last_5m,
            "uptime_last_30m": self.uptime_last_30m,
            "uptime_last_1d": self.uptime_last_1d,
        }


NO_STATS = EndpointStats()


def endpoint_stats(endpoint_ids: Iterable[int]) -> dict[int, EndpointStats]:
    """Live stats per endpoint id (one Redis round trip once the gateway records them)."""
    return {endpoint_id: NO_STATS for endpoint_id in endpoint_ids}


def weekly_tokens() -> dict[str, int]:
    """Prompt + completion tokens per model id over the last 7 days; empty until rankings."""
    return {}
