"""The metering consumer: usage events from the Redis streams `gw:{s<k>}:usage` into Postgres.

There is one stream per shard (config/gateway_state.py); each is read with the same group.
This module is the way in: the event parsing (usage/events.py) and the stream handling
(usage/streams.py) are re-exported here.

Delivery is at-least-once and persistence is idempotent, so every event ends up as exactly
one Generation row:

- entries are read with a consumer group, so each one stays in the group's pending list until
  it is acknowledged, and it is acknowledged only after the transaction that stored it commits;
- a crash between commit and XACK re-delivers entries that are already stored, and the insert
  leaves out generation ids that are stored already (rankings/ingest.py);
- on start (and after an error) a consumer re-reads its own pending entries, and it claims
  entries that another consumer left pending for longer than `claim_idle_ms` (a consumer that
  died and will never come back under the same name).

An entry that cannot become a Generation (bad JSON, missing or ill-typed fields, a cost that
disagrees with its nano-dollars) is stored as a DeadLetter row with its raw text and the reason,
and acknowledged: it must not block the stream, and it must not vanish either.
"""

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.contrib.auth import get_user_model
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)

from billing.ledger import record_usage
from billing.topup import after_usage
from rankings.ingest import insert_generations
from usage import content
from usage.events import MalformedEvent, parse_event, parse_raw, read_raw
from usage.models import DeadLetter, GenerationContent
from usage.streams import GROUP, STREAMS, Entry, safe_trim_id, text_of, trim_acknowledged

__all__ = [
    "GROUP", "STREAMS", "BatchResult", "Consumer", "Entry", "MalformedEvent",
    "default_consumer_name", "parse_event", "parse_raw", "read_raw", "safe_trim_id",
    "store_batch", "trim_acknowledged",
]

logger = logging.getLogger(__name__)


def default_consumer_name() -> str:
    return os.environ.get("METER_CONSUMER") or f"{socket.gethostname()}-{os.getpid()}"


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


Row = dict[str, Any]  # a generation's column values (usage.events.columns)
Split = tuple[list[Row], list[DeadLetter], list[GenerationContent]]


def _split(entries: Sequence[Entry]) -> Split:
    generations: list[Row] = []
    dead: list[DeadLetter] = []
    contents: list[GenerationContent] = []
    for raw_id, fields in entries:
        entry_id = text_of(raw_id)
        raw = (fields or {}).get(b"event")
        if raw is None:
            # A pending entry trimmed from the stream comes back with no fields at all.
            reason = "no 'event' field" if fields else "entry deleted from the stream"
            dead.append(DeadLetter(entry_id=entry_id, raw=repr(fields), error=reason))
            continue
        try:
            row, event = read_raw(raw)
        except MalformedEvent as exc:
            text = raw.decode(errors="replace")
            dead.append(DeadLetter(entry_id=entry_id, raw=text, error=str(exc)))
            continue
        generations.append(row)
        stored = content.from_event(event, row["id"], row["user_id"], row["created_at"])
        if stored is not None:
            contents.append(stored)
    return generations, dead, contents


def _drop_unknown_users(generations: Iterable[Row]) -> None:
    """A user deleted between the request and now keeps their generation, without an owner."""
    wanted = list({g["user_id"] for g in generations if g["user_id"] is not None})
    # One array parameter, not a placeholder per account: a batch names hundreds of them.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {get_user_model()._meta.db_table}"  # noqa: S608
                       " WHERE id = ANY(%s::bigint[])", [wanted])
        known = {user_id for (user_id,) in cursor.fetchall()}
    for generation in generations:
        if generation["user_id"] not in known and generation["user_id"] is not None:
            logger.warning("generation %s: unknown user %s", generation["id"],
                           generation["user_id"])
            generation["user_id"] = None


def _insert(generations: list[Row], dead: list[DeadLetter],
            contents: Sequence[GenerationContent] = ()) -> BatchResult:
    """One transaction; the caller acknowledges the entries only once it has committed."""
    with transaction.atomic():
        _drop_unknown_users(generations)
        # Idempotent by primary key: a re-delivered event (or one stored by another consumer
        # that claimed it) is left out, and so is its charge: the usage charge commits with
        # its generation, once per generation id.
        new = insert_generations(generations)
        record_usage((g["user_id"], g["id"], g["cost"]) for g in new)
        after_usage({g["user_id"] for g in new if g["user_id"] is not None})
        DeadLetter.objects.bulk_create(dead, ignore_conflicts=True)
        content.store(contents, {g["id"]: g["user_id"] for g in generations})
    return BatchResult(generations=len(generations), dead=len(dead))


def store_batch(entries: Sequence[Entry]) -> BatchResult:
    """Persist a batch of stream entries (not acknowledged here)."""
    generations, dead, contents = _split(entries)
    try:
        return _insert(generations, dead, contents)
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
    return _insert([], [DeadLetter(entry_id=text_of(entry_id), raw=raw, error=error)])


def _is_data_error(exc: DatabaseError) -> bool:
    """A problem with the data (retrying will not help), not with the connection."""
    return isinstance(exc, DataError | IntegrityError)


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

    def _store_read(self, start: str, block: int | None) -> int:
        """Read and store one batch per shard stream that has entries, each batch as soon as it
        is read; blocks up to `block` ms if none has. Returns how many entries were stored.

        Stream by stream (not one XREADGROUP of all 16): on a Redis Cluster the streams live in
        different slots, and one command may only name keys of one slot. Stored before the next
        read: if Redis loses its data meanwhile, the next read fails (NOGROUP), and a batch
        read but not stored would be gone, its pending record lost with the rest.
        """
        stored = 0
        # Each sweep starts at a random shard: consumers running at once then store different
        # shards, i.e. different accounts, whose rollup and balance rows never wait on the
        # other consumer's transaction (in lockstep, both would upsert the same rows).
        first = random.randrange(len(STREAMS))
        for stream in STREAMS[first:] + STREAMS[:first]:
            stored += self._process(stream, self._read_one(stream, start, None)).entries
        if not stored and block:
            time.sleep(min(block, self.idle_sleep_ms) / 1000)
        return stored

    def recover(self) -> int:
        """Persist what this consumer read but never acknowledged, then claim what others left."""
        count = 0
        while stored := self._store_read("0", None):
            count += stored
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
                if text_of(cursor) == "0-0":
                    break
        return count

    def poll(self) -> int:
        """Persist one batch of new entries per stream, after a short wait if there were none."""
        return self._store_read(">", self.block_ms)

    def drain(self) -> int:
        """Recover, then persist every new entry without waiting; for `meter --once`."""
        self.ensure_group()
        count = self.recover()
        while stored := self._store_read(">", None):
            count += stored
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
