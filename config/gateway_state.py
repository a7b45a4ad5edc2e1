"""The Redis key names the Django side shares with the gateway (docs/gateway-state.md).

They are the gateway's own names: gateway/keys.py imports nothing from Django, so both sides
read them from that one module. State one Lua script touches together shares the hash tag of
the account's shard, `{s<user id % SHARDS>}`, so a Redis Cluster can carry it.
"""

from gateway.keys import (
    BYOK_REJECTED,
    CATALOG,
    CATALOG_SEQ,
    KEY_PREFIX,
    PROBES,
    PROBES_FAILING,
    READY,
    SHARDS,
    SIGHTINGS,
    account,
    all_holds,
    all_usage_streams,
    byok,
    byok_usage,
    free_day,
    free_minute,
    generation,
    holds,
    key,
    key_usage,
    presets,
    shard_of,
    usage_stream,
)

__all__ = [
    "BYOK_REJECTED",
    "CATALOG",
    "CATALOG_SEQ",
    "KEY_PREFIX",
    "PROBES",
    "PROBES_FAILING",
    "READY",
    "SHARDS",
    "SIGHTINGS",
    "account",
    "all_holds",
    "all_usage_streams",
    "byok",
    "byok_usage",
    "free_day",
    "free_minute",
    "generation",
    "holds",
    "key",
    "key_usage",
    "presets",
    "shard_of",
    "usage_stream",
]
