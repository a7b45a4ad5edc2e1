"""The gateway's settings, read once from the environment."""

import os
from dataclasses import dataclass, field

from gateway.search import SearchSettings


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    redis_url: str
    # Upstream: connecting, and waiting for the first byte of the answer (fallback happens
    # only before it), then the longest silence tolerated inside a stream.
    connect_timeout: float = 10.0
    first_byte_timeout: float = 120.0
    read_timeout: float = 300.0
    # A fallback or retry starts only within this many seconds of the request's arrival, and
    # waits for its first byte at most what is left of them.
    retry_deadline: float = 120.0
    # Seconds between ": OPENROUTER PROCESSING" comments while a stream waits for its first token.
    keepalive_interval: float = 3.0
    max_body_bytes: int = 16 * 1024 * 1024
    # In-process caches: key records (contract: at most 0.5 s) and the catalog version check.
    auth_cache_seconds: float = 0.5
    catalog_check_seconds: float = 1.0
    upstream_pool_size: int = 512
    # A reservation not settled this long after it was made is taken for the hold of a dead
    # process and released by the sweeper (billing/holds.py): the longest a request may
    # live, streams included. A live request past it is still charged correctly; it just
    # stops holding its maximum cost.
    hold_lifetime: float = 3600.0
    # Deadline of every Redis call (connect and reply): past it the request answers 503.
    redis_timeout: float = 1.0
    # REDIS_URL names a node of a Redis Cluster (gateway/redis_cluster.py).
    redis_cluster: bool = field(default_factory=lambda: os.environ.get("REDIS_CLUSTER") == "1")
    # Where settles that could not reach Redis wait to be replayed (gateway/spool.py).
    spool_dir: str = field(
        default_factory=lambda: os.environ.get("GATEWAY_SPOOL_DIR") or ".var/spool")
    # The `web` plugin's search engine and price (gateway/search.py).
    web_search: SearchSettings = field(default_factory=SearchSettings)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:63790/0"),
            connect_timeout=_float("GATEWAY_CONNECT_TIMEOUT", 10.0),
            first_byte_timeout=_float("GATEWAY_FIRST_BYTE_TIMEOUT", 120.0),
            read_timeout=_float("GATEWAY_READ_TIMEOUT", 300.0),
            retry_deadline=_float("GATEWAY_RETRY_DEADLINE", 120.0),
            keepalive_interval=_float("GATEWAY_KEEPALIVE_INTERVAL", 3.0),
            hold_lifetime=_float("GATEWAY_HOLD_LIFETIME", 3600.0),
            redis_timeout=_float("GATEWAY_REDIS_TIMEOUT", 1.0),
            web_search=SearchSettings.from_env(),
        )
