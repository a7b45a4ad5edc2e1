"""Publish keys and accounts to Redis for the gateway (docs/gateway-state.md).

Every writer goes through `*_on_commit` (the model signals in accounts/signals.py call them
for every save and delete): the record is re-read after the transaction commits, and the read
and the Redis write of one record hold a Postgres advisory lock, so a publisher that read an
older state can never write it over a newer one: Redis always ends up with what Postgres
holds, whatever order concurrent commits land in.

A change also leaves a `PublishOutbox` row in its own transaction; the publish deletes the rows
it covered once Redis has the record. When Redis is down at commit time the rows stay, and
`drain_outbox` (beat, every few seconds) publishes them once Redis is back: a committed change
(a new key shown to its owner, a disabled account) always reaches the gateway.
"""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from accounts.models import ApiKey, PrivacySettings, PublishOutbox
from billing.ledger import balances
from billing.money import to_nanos
from config import gateway_state as names
from config.redis import get_redis

KEY_PREFIX = names.KEY_PREFIX
logger = logging.getLogger(__name__)


def key_record(key: ApiKey) -> dict[str, str | int]:
    return {
        "key_id": key.pk,
        "user_id": key.user_id,
        "name": key.name,
        "management": int(key.management),
        "disabled": int(key.disabled),
        "limit": "" if key.limit is None else to_nanos(key.limit),
        "limit_reset": key.limit_reset or "",
        "include_byok": int(key.include_byok_in_limit),
        "expires_at": "" if key.expires_at is None else int(key.expires_at.timestamp()),
    }


def publish_key(key: ApiKey) -> None:
    get_redis().hset(KEY_PREFIX + key.hash, mapping=key_record(key))  # type: ignore[arg-type]


@contextmanager
def _one_publisher_at_a_time(record: str) -> Iterator[None]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", [record])
        yield


def _pending(record: str) -> list[int]:
    """Outbox rows of `record` committed so far: the publish about to run covers them."""
    return list(PublishOutbox.objects.filter(record=record).values_list("pk", flat=True))


def _covered(rows: list[int]) -> None:
    if rows:
        PublishOutbox.objects.filter(pk__in=rows).delete()


def sync_key(key_hash: str) -> None:
    """Make Redis match Postgres for one key: its record, or no record once deleted."""
    with _one_publisher_at_a_time(KEY_PREFIX + key_hash):
        rows = _pending(f"key:{key_hash}")
        key = ApiKey.objects.filter(hash=key_hash).first()
        if key is None:
            get_redis().delete(KEY_PREFIX + key_hash)
        else:
            publish_key(key)
        _covered(rows)


def _sync(record: str) -> None:
    kind, _, ident = record.partition(":")
    if kind == "key":
        sync_key(ident)
    elif kind == "account":
        publish_account(int(ident))
    else:
        logger.error("unknown outbox record %r dropped", record)
        PublishOutbox.objects.filter(record=record).delete()


def _publish_after_commit(record: str) -> None:
    """An outbox row now, in the caller's transaction; the publish right after it commits."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(func, "outbox_record", None) == record
        for _sids, func, _robust in connection.run_on_commit
    ):
        return  # already queued in this transaction
    PublishOutbox.objects.create(record=record)

    def publish() -> None:
        try:
            _sync(record)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # The outbox row stays: drain_outbox publishes it once Redis answers again.
            logger.warning("publishing %s deferred, Redis unavailable: %s", record, exc)

    publish.outbox_record = record  # type: ignore[attr-defined]
    # robust: a failure here must not turn a committed change into an error page.
    transaction.on_commit(publish, robust=True)


def publish_key_on_commit(key_hash: str) -> None:
    _publish_after_commit(f"key:{key_hash}")


def drain_outbox(limit: int = 1000) -> int:
    """Publish what commits left behind (Redis was down); returns how many records.

    Raises the Redis error if Redis still does not answer: the rows stay for the next run.
    """
    records = list(
        PublishOutbox.objects.order_by().values_list("record", flat=True).distinct()[:limit]
    )
    for record in records:
        _sync(record)
    return len(records)


def _account_records(user_ids: Iterable[int] | None = None) -> dict[int, dict[str, str | int]]:
    users = get_user_model().objects.all()
    if user_ids is not None:
        users = users.filter(pk__in=list(user_ids))
    privacy = {
        p.user_id: p for p in PrivacySettings.objects.filter(user_id__in=[u.pk for u in users])
    }
    money = balances(None if user_ids is None else [u.pk for u in users])
    records: dict[int, dict[str, str | int]] = {}
    for user in users:
        p = privacy.get(user.pk) or PrivacySettings(user_id=user.pk)
        balance = money.get(user.pk)
        records[user.pk] = {
            "active": int(user.is_active),
            "credits": to_nanos(balance.credits if balance else 0),
            "purchased": to_nanos(balance.purchased if balance else 0),
            "prompt_logging": int(p.prompt_logging),
            "deny_training": int(p.deny_training),
            "allow": p.allow_providers,
            "ignore": p.ignore_providers,
        }
    return records


def _ledger_spent(user_ids: Iterable[int] | None = None) -> dict[int, int]:
    return {uid: to_nanos(b.usage) for uid, b in balances(user_ids).items()}


def publish_account(user_id: int) -> None:
    """HSET only the fields Django owns: `spent` and `reserved` belong to the gateway, which
    refuses to spend for an account hash without `spent` (Redis lost it): it is created once,
    from the ledger, and never overwritten (HSETNX)."""
    with _one_publisher_at_a_time(names.account(user_id)):
        rows = _pending(f"account:{user_id}")
        records = _account_records([user_id])
        if not records:
            # A deleted account: its keys' records are deleted with them; the account hash
            # (the gateway owns part of it) stays, inactive.
            get_redis().hset(names.account(user_id), "active", 0)
        for uid, record in records.items():
            get_redis().hset(names.account(uid), mapping=record)  # type: ignore[arg-type]
            get_redis().hsetnx(names.account(uid), "spent", _ledger_spent([uid]).get(uid, 0))
        _covered(rows)


def publish_account_on_commit(user_id: int) -> None:
    _publish_after_commit(f"account:{user_id}")


def publish_all() -> dict[str, int]:
    """Republish every key and account; drop key records whose key no longer exists."""
    redis = get_redis()
    pipe = redis.pipeline(transaction=False)
    live: set[str] = set()
    for key in ApiKey.objects.iterator(chunk_size=2000):
        live.add(key.hash)
        pipe.hset(KEY_PREFIX + key.hash, mapping=key_record(key))  # type: ignore[arg-type]
    accounts = _account_records()
    spent = _ledger_spent()
    for uid, record in accounts.items():
        pipe.hset(names.account(uid), mapping=record)  # type: ignore[arg-type]
        pipe.hsetnx(names.account(uid), "spent", spent.get(uid, 0))
    pipe.execute()
    stale = [
        name
        for name in redis.scan_iter(match=KEY_PREFIX + "*", count=1000)
        if name.decode().removeprefix(KEY_PREFIX) not in live
    ]
    if stale:
        redis.delete(*stale)
    # Last: from now on the gateway may take a missing key record for "no such key".
    redis.set(names.READY, 1)
    return {"keys": len(live), "accounts": len(accounts), "stale_keys_removed": len(stale)}


# `python manage.py publish_state` calls `<app>.publish.publish_state()` of every app.
publish_state = publish_all
