"""Every Redis key name the Django side shares with the gateway (docs/gateway-state.md).

The gateway has its own copy (gateway/keys.py: the gateway imports nothing from Django); a
test checks that both give the same names. State one Lua script touches together shares the
hash tag of the account's shard, `{s<user id % SHARDS>}`, so a Redis Cluster can carry it.
"""

SHARDS = 16

CATALOG = "gw:catalog"
# Hash-tagged with the catalog's own name: the publishing script touches both, so on a Redis
# Cluster they must share its slot.
CATALOG_SEQ = "gw:{gw:catalog}:seq"
KEY_PREFIX = "gw:key:"
# Set by a full publish_state: until then the gateway answers 503 for an unknown key, because
# an empty Redis (lost, or restored from an old snapshot) is not "no such key".
READY = "gw:ready"


def shard_of(user_id: int | str) -> int:
    return int(user_id) % SHARDS


def _tag(user_id: int | str) -> str:
    return f"gw:{{s{shard_of(user_id)}}}"


def key(key_hash: str) -> str:
    return KEY_PREFIX + key_hash


def account(user_id: int | str) -> str:
    return f"{_tag(user_id)}:account:{int(user_id)}"


def key_usage(user_id: int | str, key_hash: str) -> str:
    return f"{_tag(user_id)}:keyusage:{key_hash}"


def generation(user_id: int | str, generation_id: str) -> str:
    return f"{_tag(user_id)}:gen:{generation_id}"


def presets(user_id: int | str) -> str:
    """An account's active presets: field = slug, value = the designated version as JSON."""
    return f"{_tag(user_id)}:presets:{int(user_id)}"


def holds(shard: int) -> str:
    return f"gw:{{s{shard}}}:holds"


def usage_stream(shard: int) -> str:
    return f"gw:{{s{shard}}}:usage"


def all_holds() -> list[str]:
    return [holds(shard) for shard in range(SHARDS)]


def all_usage_streams() -> list[str]:
    return [usage_stream(shard) for shard in range(SHARDS)]


def free_minute(user_id: int | str) -> str:
    """The gateway's sorted set of this minute's free-model requests (gateway/ratelimit.py)."""
    return f"{_tag(user_id)}:free:min:{int(user_id)}"


def free_day(user_id: int | str, day: str) -> str:
    """The gateway's count of free-model requests on one UTC day (YYYY-MM-DD)."""
    return f"{_tag(user_id)}:free:day:{int(user_id)}:{day}"


# The gateway's first sightings of provider finish reasons and errors (marketplace/sightings.py).
SIGHTINGS = "gw:sightings"

# Quality probes (marketplace/probes.py): endpoint id -> last result, and the ids failing them.
PROBES = "gw:probes"
PROBES_FAILING = "gw:probes:failing"
