"""Redis against the book of record: per account `credits`/`spent`, per key its usage counters.

What each figure should be, in nano-dollars:

- account `credits`: the ledger's credits (Balance.credits);
- account `spent`: the ledger's usage, plus every usage event the gateway has settled that the
  meter has not persisted yet (still in the usage streams: an entry is trimmed only once every
  consumer group acknowledged it, i.e. after its generation and charge committed, so the
  streams hold every such event; the `gen` records are copies of the same events);
- key `total` and its current `d:`/`w:`/`m:` fields: the key's generations in Postgres (by
  their start time, UTC), plus its events not yet persisted.

Measuring under traffic: each round reads the Redis figures, then the streams, then Postgres
in one snapshot, then the Redis figures again. A figure that moved between the two reads was
settled during the round and is measured again in the next one; one that did not move is
consistent with what was counted (a settle changes Redis and appends its event in one atomic
step). Repairs are deltas (HINCRBY) on figures the gateway only ever adds to, so settles that
land after the measurement are kept. An account hash without `spent` gets it with HSETNX; a
settle in the instant before is caught by the next round, and `fix` repeats until a round finds
nothing to repair.
"""

import io
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q, Sum

from accounts.models import ApiKey
from accounts.publish import publish_account
from accounts.usage import period_fields
from billing.ledger import balances
from billing.money import to_nanos
from config import gateway_state as names
from config.redis import get_redis
from usage.metering import MalformedEvent, parse_raw
from usage.models import Generation

logger = logging.getLogger(__name__)

ACCOUNT_FIELDS = ("credits", "spent")
PAGE = 1000


@dataclass(frozen=True)
class Pending:
    """A usage event the gateway settled and the meter may not have persisted yet."""

    generation_id: str
    user_id: int
    key_hash: str
    nanos: int
    created_at: datetime


@dataclass
class Drift:
    """One record whose Redis figures differ from what Postgres says they must be."""

    kind: str  # "account" or "key"
    name: str  # user id, or the key's label
    redis_key: str
    fields: dict[str, tuple[int | None, int]]  # field -> (in Redis, expected)
    user_id: int = 0

    def line(self) -> str:
        parts = [
            f"{f} redis={'missing' if r is None else r} expected={e}"
            for f, (r, e) in self.fields.items()
        ]
        return f"{self.kind} {self.name}: " + ", ".join(parts)


@dataclass
class Report:
    accounts: int = 0
    keys: int = 0
    drifts: list[Drift] = field(default_factory=list)
    busy: int = 0  # records settling during every measurement: not judged

    def summary(self) -> str:
        accounts = sum(1 for d in self.drifts if d.kind == "account")
        keys = len(self.drifts) - accounts
        text = (
            f"checked {self.accounts} accounts and {self.keys} keys: "
            f"{accounts} accounts and {keys} keys differ from the ledger"
        )
        return text + (f" ({self.busy} busy, not judged)" if self.busy else "")


def _int(value: bytes | str | None) -> int | None:
    return None if value is None or value in (b"", "") else int(value)


def _period_starts(now: datetime) -> dict[str, datetime]:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "daily": day,
        "weekly": day - timedelta(days=day.weekday()),
        "monthly": day.replace(day=1),
    }


def pending_events() -> list[Pending]:
    """Every event still in the usage streams (a few seconds' worth while the meter runs)."""
    redis = get_redis()
    events: list[Pending] = []
    for stream in names.all_usage_streams():
        start = "-"
        while True:
            entries: Any = redis.xrange(stream, min=start, max="+", count=PAGE)
            for _entry_id, fields in entries:
                try:
                    g = parse_raw(fields.get(b"event", b""))
                except MalformedEvent:
                    continue  # a dead letter: the meter stores it, it charges nothing
                if g.user_id is not None:
                    events.append(
                        Pending(g.id, g.user_id, g.key_hash, int(g.cost * 10**9), g.created_at)
                    )
            if len(entries) < PAGE:
                break
            start = "(" + (
                entries[-1][0].decode() if isinstance(entries[-1][0], bytes) else entries[-1][0]
            )
    return events


class _Measure:
    """One round: Redis, streams, a Postgres snapshot, Redis again."""

    def __init__(self, user_ids: list[int], keys: list[ApiKey], now: datetime) -> None:
        self.user_ids, self.keys, self.now = user_ids, keys, now
        self.periods = period_fields(now)
        self.key_fields = ["total", *self.periods.values()]

    def _read_redis(self) -> tuple[list[Any], list[Any]]:
        pipe = get_redis().pipeline(transaction=False)
        for uid in self.user_ids:
            pipe.hmget(names.account(uid), ACCOUNT_FIELDS)
        for key in self.keys:
            pipe.hmget(names.key_usage(key.user_id, key.hash), self.key_fields)
        values = pipe.execute()
        return values[: len(self.user_ids)], values[len(self.user_ids) :]

    def _snapshot(self, events: list[Pending]) -> tuple[dict[int, Any], dict[str, dict], set]:
        """Balances, per-key sums and which pending events are stored: one consistent view."""
        starts = _period_starts(self.now)
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost:  # (inside a caller's transaction, its own isolation applies)
                with connection.cursor() as cursor:
                    cursor.execute("set transaction isolation level repeatable read")
            money = balances(self.user_ids)
            sums = {
                row["key_hash"]: row
                for row in Generation.objects.filter(key_hash__in=[k.hash for k in self.keys])
                .values("key_hash")
                .annotate(
                    total=Sum("cost"),
                    daily=Sum("cost", filter=Q(created_at__gte=starts["daily"])),
                    weekly=Sum("cost", filter=Q(created_at__gte=starts["weekly"])),
                    monthly=Sum("cost", filter=Q(created_at__gte=starts["monthly"])),
                )
            }
            stored = set(
                Generation.objects.filter(pk__in=[e.generation_id for e in events]).values_list(
                    "pk", flat=True
                )
            )
        return money, sums, stored

    def run(self) -> tuple[list[Drift], set[int], set[str]]:
        """Drifts, and the accounts and keys that moved during the round."""
        accounts_before, keys_before = self._read_redis()
        events = pending_events()
        money, sums, stored = self._snapshot(events)
        accounts_after, keys_after = self._read_redis()

        unpersisted = [e for e in events if e.generation_id not in stored]
        spent_pending: dict[int, int] = defaultdict(int)
        key_pending: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        starts = _period_starts(self.now)
        for e in unpersisted:
            spent_pending[e.user_id] += e.nanos
            usage = key_pending[e.key_hash]
            usage["total"] += e.nanos
            for period, start in starts.items():
                if e.created_at >= start:
                    usage[period] += e.nanos

        drifts: list[Drift] = []
        busy_accounts: set[int] = set()
        for uid, before, after in zip(self.user_ids, accounts_before, accounts_after, strict=True):
            if before != after:
                busy_accounts.add(uid)
                continue
            balance = money.get(uid)
            expected = {
                "credits": to_nanos(balance.credits if balance else 0),
                "spent": to_nanos(balance.usage if balance else 0) + spent_pending[uid],
            }
            found = dict(zip(ACCOUNT_FIELDS, (_int(v) for v in before), strict=True))
            wrong = {f: (found[f], e) for f, e in expected.items() if found[f] != e}
            if wrong:
                drifts.append(Drift("account", str(uid), names.account(uid), wrong, uid))

        busy_keys: set[str] = set()
        for key, before, after in zip(self.keys, keys_before, keys_after, strict=True):
            if before != after:
                busy_keys.add(key.hash)
                continue
            stored_sums = sums.get(key.hash, {})
            pending = key_pending.get(key.hash, {})
            expected_key: dict[str, int] = {}
            for name, period in [("total", "total"), *((f, p) for p, f in self.periods.items())]:
                usd = stored_sums.get(period) or Decimal(0)
                expected_key[name] = to_nanos(usd) + pending.get(period, 0)
            found_key = dict(zip(self.key_fields, (_int(v) for v in before), strict=True))
            # A counter the gateway never created reads as 0 to it: missing equals 0 here.
            wrong = {
                f: (found_key[f], e) for f, e in expected_key.items() if (found_key[f] or 0) != e
            }
            if wrong:
                redis_key = names.key_usage(key.user_id, key.hash)
                drifts.append(Drift("key", key.label, redis_key, wrong, key.user_id))
        return drifts, busy_accounts, busy_keys


def _accounts_to_check() -> list[int]:
    """Accounts with money on record or a key: the ones the gateway may be asked about."""
    with_money = set(balances().keys())
    with_keys = set(ApiKey.objects.values_list("user_id", flat=True).distinct())
    existing = set(
        get_user_model().objects.filter(pk__in=with_money | with_keys).values_list("pk", flat=True)
    )
    return sorted(existing)


def check(user_ids: Iterable[int] | None = None, rounds: int = 3) -> Report:
    """Measure every account and key; records busy in one round are measured again."""
    uids = sorted(user_ids) if user_ids is not None else _accounts_to_check()
    keys = list(ApiKey.objects.filter(user_id__in=uids).order_by("pk"))
    report = Report(accounts=len(uids), keys=len(keys))
    for _ in range(rounds):
        drifts, busy_accounts, busy_keys = _Measure(uids, keys, datetime.now(UTC)).run()
        report.drifts.extend(drifts)
        uids = sorted(busy_accounts)
        keys = [k for k in keys if k.hash in busy_keys]
        if not uids and not keys:
            break
    report.busy = len(uids) + len(keys)
    return report


def _repair(drift: Drift) -> None:
    redis = get_redis()
    if drift.kind == "key":
        pipe = redis.pipeline(transaction=False)
        for f, (found, expected) in drift.fields.items():
            pipe.hincrby(drift.redis_key, f, expected - (found or 0))
        pipe.execute()
        return
    spent = drift.fields.get("spent")
    if spent is not None:
        found, expected = spent
        if found is None:
            redis.hsetnx(drift.redis_key, "spent", expected)
        else:
            redis.hincrby(drift.redis_key, "spent", expected - found)
    if "credits" in drift.fields:
        publish_account(drift.user_id)  # credits are Django's: republished from the ledger


def fix(max_rounds: int = 10) -> tuple[Report, Report]:
    """Repair Redis from Postgres until a check finds nothing; returns (first, last) reports.

    The first repairs come before anything is republished: an account whose hash is gone
    gets its `spent` back before the gateway may serve it again (`gw:ready`, set by the
    republish, is the gateway's signal that key records are complete).
    """
    first = last = check()
    republished = False
    for _ in range(max_rounds):
        for drift in last.drifts:
            _repair(drift)
        if not republished:
            out = io.StringIO()
            call_command("publish_state", stdout=out)
            logger.info("republished: %s", out.getvalue().strip().replace("\n", "; "))
            republished = True
        last = check()
        if not last.drifts:
            break
    logger.info("reconcile: %s", last.summary())
    return first, last
