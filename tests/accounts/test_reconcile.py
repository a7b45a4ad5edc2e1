"""`reconcile_balances`: Redis against the ledger, per account and per key; --fix repairs."""

import io
import json
import time
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts import reconcile
from billing.ledger import balance, record_usage
from config import gateway_state
from tests.accounts.conftest import row
from tests.usage.conftest import usage_event
from usage.metering import Consumer, store_batch

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile_balances", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def settle(redis_client, key: str, nanos: int) -> dict:
    """What the gateway's settle does for one generation: spent, key usage, the event."""
    api_key = row(key)
    event = usage_event(
        api_key.user_id,
        key_hash=api_key.hash,
        cost=f"{Decimal(nanos) / 10**9:.9f}",
        cost_nanos=nanos,
        created_at=time.time(),
    )
    usage = gateway_state.key_usage(api_key.user_id, api_key.hash)
    fields = reconcile.period_fields()
    pipe = redis_client.pipeline(transaction=True)
    pipe.hincrby(gateway_state.account(api_key.user_id), "spent", nanos)
    for name in ("total", *fields.values()):
        pipe.hincrby(usage, name, nanos)
    stream = gateway_state.usage_stream(gateway_state.shard_of(api_key.user_id))
    pipe.xadd(stream, {"event": json.dumps(event)})
    pipe.execute()
    return event


def test_nothing_to_report_when_redis_matches_the_ledger(ada_key, redis_client):
    settle(redis_client, ada_key, 1_234_567)  # settled, not yet metered: still counts
    code, out = run()
    assert code == 0, out
    assert (
        out.strip() == "checked 1 accounts and 1 keys: 0 accounts and 0 keys differ from the ledger"
    )
    Consumer(redis_client).drain()  # now in the ledger instead of the stream
    assert balance(row(ada_key).user_id).usage == Decimal("0.001234567")
    assert run()[0] == 0


def test_drift_is_reported_line_by_line_and_fixed(ada_key, bob_key, redis_client):
    ada, bob = row(ada_key), row(bob_key)
    settle(redis_client, ada_key, 5_000)
    Consumer(redis_client).drain()
    # Redis lost some of ada's spend and bob's credits; ada's key usage is off too.
    redis_client.hincrby(gateway_state.account(ada.user_id), "spent", -5_000)
    redis_client.hset(gateway_state.account(bob.user_id), "credits", 99)
    redis_client.hdel(gateway_state.key_usage(ada.user_id, ada.hash), "total")

    code, out = run()
    lines = out.strip().splitlines()
    assert code == 1
    assert f"account {ada.user_id}: spent redis=0 expected=5000" in lines
    assert f"account {bob.user_id}: credits redis=99 expected=0" in lines
    assert f"key {ada.label}: total redis=missing expected=5000" in lines
    assert (
        lines[-1] == "checked 2 accounts and 2 keys: 2 accounts and 1 keys differ from the ledger"
    )

    code, out = run("--fix")
    assert code == 0, out
    assert out.strip().splitlines()[-1].startswith("repaired; now checked 2 accounts")
    assert redis_client.hget(gateway_state.account(ada.user_id), "spent") == b"5000"
    assert redis_client.hget(gateway_state.account(bob.user_id), "credits") == b"0"
    assert redis_client.hget(gateway_state.key_usage(ada.user_id, ada.hash), "total") == b"5000"
    assert run() == (0, run()[1])


def test_fix_after_redis_lost_everything_restores_it_from_postgres(ada_key, redis_client):
    ada = row(ada_key)
    for nanos in (7, 11_000, 2_500_000):
        settle(redis_client, ada_key, nanos)
    Consumer(redis_client).drain()
    pending = settle(redis_client, ada_key, 40)  # settled but not metered when Redis is lost
    events = [(b"1-1", {b"event": json.dumps(pending).encode()})]
    redis_client.flushdb()
    # The meter had read it before the loss and stores it now: the ledger knows all of it.
    store_batch(events)

    code, out = run("--fix")
    assert code == 0, out
    account = redis_client.hgetall(gateway_state.account(ada.user_id))
    assert account[b"spent"] == b"2511047" and account[b"credits"] == b"25000000000"
    assert account[b"active"] == b"1"
    usage = redis_client.hgetall(gateway_state.key_usage(ada.user_id, ada.hash))
    assert usage[b"total"] == b"2511047"
    assert usage[reconcile.period_fields()["daily"].encode()] == b"2511047"
    assert redis_client.exists(gateway_state.key(ada.hash))  # key records republished
    assert redis_client.get(gateway_state.READY) == b"1"
    assert run()[0] == 0


def test_a_ledger_charge_without_a_generation_is_drift_for_the_account_only(ada_key, redis_client):
    ada = row(ada_key)
    record_usage([(ada.user_id, "gen-manual-1", Decimal("0.000001"))])
    code, out = run()
    assert code == 1
    assert f"account {ada.user_id}: spent redis=0 expected=1000" in out
