"""Every key and account change reaches the gateway's Redis records right after commit."""

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from accounts import keys as key_rules
from accounts.publish import publish_all
from billing.ledger import grant_credits, total_credits
from config import gateway_state
from tests.accounts.conftest import row

pytestmark = pytest.mark.django_db(transaction=True)


def record(redis_client, key: str) -> dict[str, str]:
    return {
        k.decode(): v.decode()
        for k, v in redis_client.hgetall(gateway_state.key(row(key).hash)).items()
    }


def test_a_new_key_is_published_with_the_gateway_fields(make_key, redis_client):
    key = make_key("ada@example.com", name="laptop", management=True)
    published = record(redis_client, key)
    assert published == {
        "key_id": str(row(key).pk),
        "user_id": str(row(key).user_id),
        "name": "laptop",
        "management": "1",
        "disabled": "0",
        "limit": "",
        "limit_reset": "",
        "include_byok": "0",
        "expires_at": "",
    }


def test_disabling_and_deleting_change_redis_as_soon_as_the_transaction_commits(
    ada_key, redis_client
):
    key_hash = row(ada_key).hash
    with transaction.atomic():
        key_rules.update_key(
            row(ada_key), disabled=True, limit=Decimal("2.5"), limit_reset="weekly"
        )
        # not before commit
        assert redis_client.hget(gateway_state.key(key_hash), "disabled") == b"0"
    fields = ["disabled", "limit", "limit_reset"]
    assert redis_client.hmget(gateway_state.key(key_hash), fields) == [
        b"1",
        b"2500000000",
        b"weekly",
    ]

    key_rules.delete_key(row(ada_key))
    assert not redis_client.exists(gateway_state.key(key_hash))


def test_a_rolled_back_key_is_never_published(ada, redis_client):
    before = set(redis_client.scan_iter(gateway_state.KEY_PREFIX + "*"))
    with pytest.raises(RuntimeError), transaction.atomic():
        key_rules.create_key(ada, "doomed")
        raise RuntimeError
    assert set(redis_client.scan_iter(gateway_state.KEY_PREFIX + "*")) == before


def test_account_fields_are_set_without_touching_the_gateways_counters(ada, redis_client):
    redis_client.hset(gateway_state.account(ada.pk), mapping={"spent": 7, "reserved": 3})
    grant_credits(ada, Decimal("0.000000001"), "purchase", "stripe:evt_1")
    account = {
        k.decode(): v.decode()
        for k, v in redis_client.hgetall(gateway_state.account(ada.pk)).items()
    }
    assert account == {
        "active": "1",
        "credits": "25000000001",
        "purchased": "1",
        "prompt_logging": "0",
        "deny_training": "0",
        "allow": "",
        "ignore": "",
        "spent": "7",
        "reserved": "3",
    }


def test_publish_all_restores_lost_records_and_drops_stale_ones(ada_key, bob_key, redis_client):
    redis_client.flushdb()
    redis_client.hset(gateway_state.key("f" * 64), "name", "a key deleted while Redis was away")
    redis_client.hset(gateway_state.key_usage(row(ada_key).user_id, row(ada_key).hash), "total", 5)

    counts = publish_all()

    assert counts == {"keys": 2, "accounts": 2, "stale_keys_removed": 1}
    assert record(redis_client, ada_key)["name"] == "Ada's laptop"
    assert redis_client.hget(gateway_state.account(row(bob_key).user_id), "credits") == b"0"
    usage_key = gateway_state.key_usage(row(ada_key).user_id, row(ada_key).hash)
    assert redis_client.hget(usage_key, "total") == b"5"


def test_concurrent_grants_credit_each_reference_once_and_redis_follows_the_ledger(
    ada, redis_client
):
    references = [f"grant-{i % 5}" for i in range(20)]  # 20 attempts, 5 distinct grants
    barrier = threading.Barrier(len(references))

    def grant(reference: str) -> None:
        try:
            barrier.wait()
            grant_credits(User.objects.get(pk=ada.pk), Decimal("1.5"), "promo", reference)
        finally:
            connection.close()

    threads = [threading.Thread(target=grant, args=(r,)) for r in references]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert total_credits(ada.pk) == Decimal("32.5")  # 25 from the fixture + 5 x 1.5
    assert redis_client.hget(gateway_state.account(ada.pk), "credits") == b"32500000000"


def test_publish_state_command_republishes_keys_and_accounts(ada_key, redis_client):
    import io

    from django.core.management import call_command

    redis_client.delete(gateway_state.key(row(ada_key).hash))
    out = io.StringIO()
    call_command("publish_state", stdout=out)
    assert "accounts: {'keys': 1, 'accounts': 1" in out.getvalue()
    assert record(redis_client, ada_key)["name"] == "Ada's laptop"
