"""The metering consumer: usage events from the Redis streams `gw:{s<k>}:usage` into Postgres.

There is one stream per shard (config/gateway_state.py); each is read with the same group.

Delivery is at-least-once and persistence is idempotent, so every event ends up as exactly
one Generation row:

- entries are read with a consumer group, so each one stays in the group's pending list until
  it is acknowledged, and it is acknowledged only after the transaction that stored it commits;
- a crash between commit and XACK re-delivers entries that are already stored, and
  `bulk_create(ignore_conflicts=True)` on the generation id makes the second insert a no-op;
- on start (and after an error) a consumer re-reads its own pending entries, and it claims
  entries that another consumer left pending for longer than `claim_idle_ms` (a consumer that
  died and will never come back under the same name).

Acknowledged entries are trimmed from the stream (`trim_acknowledged`), every few seconds by
the loop and at the end of `meter --once`, but only below the point every consumer group has
delivered and acknowledged: an entry pending anywhere, or not yet delivered to some group,
stays.

An entry that cannot become a Generation (bad JSON, missing or ill-typed fields, a cost that
disagrees with its nano-dollars) is stored as a DeadLetter row with its raw text and the reason,
and acknowledged: it must not block the stream, and it must not vanish either.
"""

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import redis
from django.contrib.auth import get_user_model
from django.db import DatabaseError, DataError, IntegrityError, close_old_connections, transaction

from billing.ledger import record_usage
from billing.topup import after_usage
from config import gateway_state
from rankings.models import DeadLetter, Generation

logger = logging.getLogger(__name__)

STREAMS = gateway_state.all_usage_streams()
GROUP = "meter"

# An entry as redis-py returns it: (entry id, fields); fields is None for an entry that was
# trimmed from the stream while still pending.
Entry = tuple[bytes | str, dict[bytes, bytes] | None]


class MalformedEvent(ValueError):
    """The event cannot be turned into a Generation; the message says why."""


def default_consumer_name() -> str:
    return os.environ.get("METER_CONSUMER") or f"{socket.gethostname()}-{os.getpid()}"


# --- one event -> one Generation ------------------------------------------------------------


def _field(event: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in event:
        raise MalformedEvent(f"missing field {name!r}")
    return _typed(event, name, kind)


def _typed(event: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = event.get(name)
    # bool is an int in Python; a count of True tokens is still a bug in the producer.
    if isinstance(value, bool) and kind is not bool:
        raise MalformedEvent(f"field {name!r} must be {_kind_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise MalformedEvent(f"field {name!r} must be {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _optional(event: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    return None if event.get(name) is None else _typed(event, name, kind)


def _text(event: dict[str, Any], name: str) -> str:
    return _optional(event, name, str) or ""


def _count(event: dict[str, Any], name: str) -> int:
    value = _field(event, name, int)
    if not 0 <= value < 2**63:
        raise MalformedEvent(f"field {name!r} out of range: {value}")
    return int(value)


def _millis(event: dict[str, Any], name: str) -> int | None:
    value = _optional(event, name, (int, float))
    if value is None:
        return None
    if not 0 <= value < 2**31:
        raise MalformedEvent(f"field {name!r} out of range: {value}")
    return round(value)


def _cost(event: dict[str, Any]) -> Decimal:
    text = _field(event, "cost", str)
    nanos = _field(event, "cost_nanos", int)
    try:
        cost = Decimal(text)
    except InvalidOperation:
        raise MalformedEvent(f"field 'cost' is not a decimal: {text!r}") from None
    # The ledger and the Redis counters must agree to the nano-dollar: a cost that is not
    # exactly its nano-dollars is a producer bug, surfaced rather than rounded away.
    if not cost.is_finite() or cost != Decimal(nanos).scaleb(-9):
        raise MalformedEvent(f"cost {text!r} does not equal cost_nanos {nanos} / 1e9")
    if not 0 <= nanos < 10**20:
        raise MalformedEvent(f"cost_nanos out of range: {nanos}")
    return Decimal(nanos).scaleb(-9)


def parse_event(event: Any) -> Generation:
    """An unsaved Generation from a decoded event (the JSON of docs/gateway-state.md)."""
    if not isinstance(event, dict):
        raise MalformedEvent("the event is not a JSON object")
    generation_id = _field(event, "id", str)
    if not generation_id.startswith("gen-") or len(generation_id) > 100:
        raise MalformedEvent(f"not a generation id: {generation_id[:120]!r}")
    created = _field(event, "created_at", (int, float))
    try:
        created_at = datetime.fromtimestamp(created, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedEvent(f"field 'created_at' is not a unix time: {created!r}") from None
    categories = _optional(event, "app_categories", list) or []
    if not all(isinstance(item, str) for item in categories):
        raise MalformedEvent("field 'app_categories' must be a list of strings")
    responses = _optional(event, "provider_responses", list)
    throughput = _optional(event, "throughput", (int, float))
    return Generation(
        id=generation_id,
        user_id=_field(event, "user_id", int),
        key_id=_optional(event, "key_id", int),
        key_hash=_text(event, "key_hash"),
        model=_field(event, "model", str),
        endpoint_id=_optional(event, "endpoint_id", int),
        provider=_text(event, "provider"),
        provider_name=_text(event, "provider_name"),
        api_type=_optional(event, "api_type", str) or "completions",
        streamed=_field(event, "streamed", bool),
        cancelled=_optional(event, "cancelled", bool) or False,
        status=_field(event, "status", int),
        finish_reason=_text(event, "finish_reason"),
        native_finish_reason=_text(event, "native_finish_reason"),
        tokens_prompt=_count(event, "tokens_prompt"),
        tokens_completion=_count(event, "tokens_completion"),
        tokens_reasoning=_count(event, "tokens_reasoning") if "tokens_reasoning" in event else 0,
        tokens_cached=_count(event, "tokens_cached") if "tokens_cached" in event else 0,
        cost=_cost(event),
        latency_ms=_millis(event, "latency_ms"),
        ttft_ms=_millis(event, "ttft_ms"),
        generation_time_ms=_millis(event, "generation_time_ms"),
        throughput=None if throughput is None else float(throughput),
        http_referer=_text(event, "http_referer"),
        app_title=_text(event, "app_title"),
        app_categories=categories,
        external_user=_text(event, "external_user"),
        session_id=_text(event, "session_id"),
        upstream_id=_text(event, "upstream_id"),
        service_tier=_text(event, "service_tier"),
        provider_responses=responses,
        created_at=created_at,
    )


def parse_raw(raw: str | bytes) -> Generation:
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"invalid JSON: {exc}") from None
    return parse_event(event)


# --- one batch of stream entries -> one transaction ------------------------------------------


@dataclass
class BatchResult:
    generations: int = 0  # valid events (a re-delivered one is counted, and stored once)
    dead: int = 0  # malformed entries stored as dead letters

    def __iadd__(self, other: "BatchResult") -> "BatchResult":
        self.generations += other.generations
        self.dead += other.dead
        return self

    @property
    def entries(self) -> int:
        return self.generations + self.dead


def _text_of(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _split(entries: Sequence[Entry]) -> tuple[list[Generation], list[DeadLetter]]:
    generations: list[Generation] = []
    dead: list[DeadLetter] = []
    for raw_id, fields in entries:
        entry_id = _text_of(raw_id)
        raw = (fields or {}).get(b"event")
        if raw is None:
            # A pending entry trimmed from the stream comes back with no fields at all.
            reason = "no 'event' field" if fields else "entry deleted from the stream"
            dead.append(DeadLetter(entry_id=entry_id, raw=repr(fields), error=reason))
            continue
        try:
            generations.append(parse_raw(raw))
        except MalformedEvent as exc:
            text = raw.decode(errors="replace")
            dead.append(DeadLetter(entry_id=entry_id, raw=text, error=str(exc)))
    return generations, dead


def _drop_unknown_users(generations: Iterable[Generation]) -> None:
    """A user deleted between the request and now keeps their generation, without an owner."""
    wanted = {g.user_id for g in generations if g.user_id is not None}
    known = set(get_user_model().objects.filter(pk__in=wanted).values_list("pk", flat=True))
    for generation in generations:
        if generation.user_id not in known:
            logger.warning("generation %s: unknown user %s", generation.id, generation.user_id)
            generation.user_id = None


def _insert(generations: list[Generation], dead: list[DeadLetter]) -> BatchResult:
    """One transaction; the caller acknowledges the entries only once it has committed."""
    with transaction.atomic():
        _drop_unknown_users(generations)
        # Idempotent by primary key: a re-delivered event (or one stored by another consumer
        # that claimed it) is skipped by ON CONFLICT DO NOTHING.
        Generation.objects.bulk_create(generations, ignore_conflicts=True)
        # The usage charge commits with its generation, once per generation id.
        record_usage((g.user_id, g.id, g.cost) for g in generations)
        after_usage({g.user_id for g in generations if g.user_id is not None})
        DeadLetter.objects.bulk_create(dead, ignore_conflicts=True)
    return BatchResult(generations=len(generations), dead=len(dead))


def store_batch(entries: Sequence[Entry]) -> BatchResult:
    """Persist a batch of stream entries (not acknowledged here)."""
    generations, dead = _split(entries)
    try:
        return _insert(generations, dead)
    except DatabaseError as exc:
        if not _is_data_error(exc):
            raise  # the database is unreachable: the batch stays pending, to be retried
        refusal = exc
    if len(entries) > 1:
        # One row the database refused (a value the checks above did not foresee) must not
        # hold the whole batch back: store the entries one by one.
        logger.warning("batch refused by the database (%s); storing it entry by entry", refusal)
        result = BatchResult()
        for entry in entries:
            result += store_batch([entry])
        return result
    entry_id, fields = entries[0]
    raw = (fields or {}).get(b"event", b"").decode(errors="replace")
    error = f"refused by the database: {refusal}"
    return _insert([], [DeadLetter(entry_id=_text_of(entry_id), raw=raw, error=error)])


def _is_data_error(exc: DatabaseError) -> bool:
    """A problem with the data (retrying will not help), not with the connection."""
    return isinstance(exc, DataError | IntegrityError)


# --- trimming what every group has acknowledged ---------------------------------------------

StreamId = tuple[int, int]


def _parse_id(value: bytes | str) -> StreamId:
    ms, _, seq = _text_of(value).partition("-")
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


# --- the consumer ---------------------------------------------------------------------------


class Consumer:
    """One member of the `meter` consumer group; several may run at once."""

    def __init__(
        self,
        client: redis.Redis,
        name: str | None = None,
        batch_size: int = 500,
        block_ms: int = 1000,
        claim_idle_ms: int = 60_000,
    ) -> None:
        self.redis = client
        self.name = name or default_consumer_name()
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        # With nothing to read, wait this long before looking at the streams again.
        self.idle_sleep_ms = 50
        self.totals = BatchResult()

    def ensure_group(self) -> None:
        for stream in STREAMS:
            try:
                self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _process(self, stream: str, entries: Sequence[Entry]) -> BatchResult:
        if not entries:
            return BatchResult()
        result = store_batch(entries)
        self.redis.xack(stream, GROUP, *[entry_id for entry_id, _ in entries])
        self.totals += result
        if result.dead:
            logger.warning("%d malformed usage events stored as dead letters", result.dead)
        return result

    def _read_one(self, stream: str, start: str, block: int | None) -> list[Entry]:
        response: Any = self.redis.xreadgroup(
            GROUP, self.name, {stream: start}, count=self.batch_size, block=block
        )
        return list(response[0][1]) if response else []

    def _read(self, start: str, block: int | None) -> list[tuple[str, list[Entry]]]:
        """One batch per shard stream that has entries; blocks up to `block` ms if none has.

        Stream by stream (not one XREADGROUP of all 16): on a Redis Cluster the streams live in
        different slots, and one command may only name keys of one slot.
        """
        batches = [(s, e) for s in STREAMS if (e := self._read_one(s, start, None))]
        if not batches and block:
            time.sleep(min(block, self.idle_sleep_ms) / 1000)
        return batches

    def recover(self) -> int:
        """Persist what this consumer read but never acknowledged, then claim what others left."""
        count = 0
        while batches := self._read("0", None):
            for stream, entries in batches:
                count += self._process(stream, entries).entries
        for stream in STREAMS:
            cursor: bytes | str = "0-0"
            while True:
                cursor, claimed, *deleted = self.redis.xautoclaim(
                    stream,
                    GROUP,
                    self.name,
                    self.claim_idle_ms,
                    start_id=cursor,
                    count=self.batch_size,
                )
                count += self._process(stream, claimed).entries
                if deleted and deleted[0]:
                    logger.error("pending usage entries deleted before being stored: %s",
                                 deleted[0])
                if _text_of(cursor) == "0-0":
                    break
        return count

    def poll(self) -> int:
        """Persist one batch of new entries per stream, after a short wait if there were none."""
        return sum(self._process(stream, entries).entries
                   for stream, entries in self._read(">", self.block_ms))

    def drain(self) -> int:
        """Recover, then persist every new entry without waiting; for `meter --once`."""
        self.ensure_group()
        count = self.recover()
        while batches := self._read(">", None):
            for stream, entries in batches:
                count += self._process(stream, entries).entries
        trim_acknowledged(self.redis)
        return count

    def run(
        self, stop: threading.Event, claim_every_s: float = 30.0, trim_every_s: float = 5.0
    ) -> None:
        """Loop until `stop` is set; the batch in hand is always finished first."""
        recovered_at: float | None = None
        trimmed_at = time.monotonic()
        while not stop.is_set():
            try:
                close_old_connections()  # a long-lived loop must drop a dead or stale connection
                if recovered_at is None or time.monotonic() - recovered_at > claim_every_s:
                    self.ensure_group()
                    self.recover()
                    recovered_at = time.monotonic()
                self.poll()
                # Two extra round trips per group: worth it every few seconds, not per batch.
                if time.monotonic() - trimmed_at > trim_every_s:
                    trim_acknowledged(self.redis)
                    trimmed_at = time.monotonic()
            except (redis.RedisError, DatabaseError):
                # Entries of a failed batch stay pending: recover them once things are back.
                logger.exception("metering batch failed; retrying")
                recovered_at = None
                stop.wait(1.0)
