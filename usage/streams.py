"""The usage streams `gw:{s<k>}:usage` as the consumer sees them: names, entries, trimming.

Acknowledged entries are trimmed from the stream (`trim_acknowledged`), every few seconds by
the consumer's loop and at the end of `meter --once`, but only below the point every consumer
group has delivered and acknowledged: an entry pending anywhere, or not yet delivered to some
group, stays.
"""

from typing import Any

import redis

from config import gateway_state

STREAMS = gateway_state.all_usage_streams()
GROUP = "meter"

# An entry as redis-py returns it: (entry id, fields); fields is None for an entry that was
# trimmed from the stream while still pending.
Entry = tuple[bytes | str, dict[bytes, bytes] | None]


def text_of(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


StreamId = tuple[int, int]


def _parse_id(value: bytes | str) -> StreamId:
    ms, _, seq = text_of(value).partition("-")
    return int(ms), int(seq or 0)


def _next_id(entry_id: StreamId) -> StreamId:
    ms, seq = entry_id
    return (ms + 1, 0) if seq == 2**64 - 1 else (ms, seq + 1)


def safe_trim_id(client: redis.Redis, stream: str) -> StreamId | None:
    """The lowest id some consumer group may still need; every entry below it is acknowledged.

    Per group: its oldest pending entry, or (nothing pending) the entry after the last one it
    was delivered. The groups are listed before their pending lists are read, so a delivery in
    between only makes the answer smaller: the last-delivered id is used only when the pending
    list read afterwards is empty, i.e. everything up to it was acknowledged by then, and an
    acknowledged entry never becomes pending again. None when the stream or its groups do not
    exist: with nobody consuming, nothing is known to be persisted.
    """
    try:
        groups = client.xinfo_groups(stream)
    except redis.ResponseError as exc:
        if "no such key" in str(exc).lower():
            return None
        raise
    bounds: list[StreamId] = []
    for group in groups:
        summary: Any = client.xpending(stream, group["name"])
        if summary["pending"]:
            bounds.append(_parse_id(summary["min"]))
        else:
            bounds.append(_next_id(_parse_id(group["last-delivered-id"])))
    return min(bounds, default=None)


def trim_acknowledged(client: redis.Redis) -> int:
    """Drop the entries every group has acknowledged; returns how many went.

    `XTRIM MINID ~`: approximate trimming frees only whole radix-tree nodes (a few KB of
    entries each), so it may keep some acknowledged entries until the next trim, but it never
    removes an entry at or above the id, and it does no per-entry rewriting of a half-trimmed
    node. Exactness buys nothing here: the entries it leaves are already stored in Postgres.
    """
    removed = 0
    for stream in STREAMS:
        bound = safe_trim_id(client, stream)
        if bound is not None:
            removed += int(client.xtrim(stream, minid=f"{bound[0]}-{bound[1]}",
                                        approximate=True))
    return removed
