"""Every Redis key name the gateway and the Django side share (docs/gateway-state.md).

The Django side reads these names through config/gateway_state.py, which re-exports this
module: it imports nothing from Django, so both sides spell every name from one place.

State that one Lua script touches together lives in one hash slot, so a Redis Cluster can
carry it: an account's hash, its keys' usage, its holds, its generation records and its usage
events all carry the hash tag of the account's shard, `{s<user id % SHARDS>}`. The holds index
and the usage stream are one per shard (not one per account) so the sweeper and the metering
consumer walk a fixed, small set of keys.
"""

SHARDS = 16

CATALOG = "gw:catalog"
# Hash-tagged with the catalog's own name: the publishing script touches both, so on a Redis
# Cluster they must share its slot.
CATALOG_SEQ = "gw:{gw:catalog}:seq"
KEY_PREFIX = "gw:key:"
# Set by a full publish of the Django side's state: without it, a missing key record may mean
# "Redis lost its data" rather than "no such key".
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
    """Usage of a key, in its owner's shard (one script charges both)."""
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


# Free-model request counters (gateway/ratelimit.py), in the account's shard so one script can
# read the account's `purchased` with them.
def free_minute(user_id: int | str) -> str:
    """Sorted set of this minute's free-model requests (member: generation id, score: ms)."""
    return f"{_tag(user_id)}:free:min:{int(user_id)}"


def free_day(user_id: int | str, day: str) -> str:
    """Count of free-model requests on one UTC day (YYYY-MM-DD)."""
    return f"{_tag(user_id)}:free:day:{int(user_id)}:{day}"


def sticky(user_id: int | str, conversation: str) -> str:
    """The endpoint id a conversation is pinned to while its prompt cache is warm
    (gateway/sticky.py)."""
    return f"{_tag(user_id)}:sticky:{int(user_id)}:{conversation}"


def byok(user_id: int | str) -> str:
    """An account's own provider keys, encrypted (billing/byok.py publishes, gateway/byok.py
    decrypts)."""
    return f"{_tag(user_id)}:byok:{int(user_id)}"


def byok_usage(user_id: int | str) -> str:
    """An account's BYOK list-price usage per month (field m:YYYY-MM, nano-dollars)."""
    return f"{_tag(user_id)}:byokusage:{int(user_id)}"


# Provider keys the gateway saw refused (`<user id>:<key id>`), for the Django side to mark.
BYOK_REJECTED = "gw:byok:rejected"

# First sightings of a provider's finish reasons and error types (gateway/sightings.py), hash
# field `<provider>|<kind>|<value>`; read by marketplace/sightings.py.
SIGHTINGS = "gw:sightings"

# Quality probes (marketplace/probes.py): endpoint id -> last result (JSON), and the set of
# endpoint ids failing them, which the router reads with its live statistics.
PROBES = "gw:probes"
PROBES_FAILING = "gw:probes:failing"


def parsed_file(digest: str) -> str:
    """The text of a file parsed by the file-parser plugin (gateway/plugins/files.py), by the
    SHA-256 of its bytes; expires."""
    return f"gw:file:{digest}"
