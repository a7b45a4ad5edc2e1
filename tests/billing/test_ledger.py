"""The ledger: every movement is one row, once per idempotency key, and the balance follows."""

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import ledger
from billing.models import LedgerEntry
from config import gateway_state

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada() -> User:  # no key, no grant: an empty ledger
    return User.objects.create(username="ada", email="ada@example.com")


def test_each_kind_moves_its_part_of_the_balance(ada):
    ledger.post(ada.pk, Decimal("20"), "purchase", "stripe:cs_1", reference="cs_1")
    ledger.post(ada.pk, Decimal("5"), "promo", "welcome:ada")
    ledger.post(ada.pk, Decimal("-8"), "refund", "stripe:re_1")
    ledger.post(ada.pk, Decimal("-0.5"), "adjustment", "ops:1", memo="double-billed in May")
    ledger.record_usage(
        [(ada.pk, "gen-1", Decimal("0.000000001")), (ada.pk, "gen-2", Decimal("1.25"))]
    )

    b = ledger.balance(ada.pk)
    assert b.credits == Decimal("16.5")  # 20 + 5 - 8 - 0.5
    assert b.purchased == Decimal("12")
    assert b.promotional == Decimal("5")
    assert b.usage == Decimal("1.250000001")
    assert b.available == Decimal("15.249999999")
    # The balance is the sum of the rows, to the nano-dollar.
    assert sum(e.amount for e in LedgerEntry.objects.filter(user=ada)) == b.available


def test_a_repeated_idempotency_key_returns_the_first_row_and_changes_nothing(ada):
    first = ledger.post(ada.pk, Decimal("10"), "purchase", "stripe:evt_1")
    again = ledger.post(ada.pk, Decimal("10"), "purchase", "stripe:evt_1")
    assert again.pk == first.pk
    assert LedgerEntry.objects.count() == 1
    assert ledger.balance(ada.pk).credits == Decimal("10")


@pytest.mark.parametrize(
    ("amount", "kind", "memo", "message"),
    [
        ("-1", "purchase", "", "positive"),
        ("0", "promo", "", "positive"),
        ("2", "refund", "", "negative"),
        ("1", "usage", "", "negative"),
        ("1", "adjustment", "", "reason"),
        ("1", "gift", "", "unknown ledger kind"),
        ("0.0000000001", "promo", "", "nano-dollars"),
        ("NaN", "promo", "", "not an amount"),
    ],
)
def test_movements_the_ledger_refuses(ada, amount, kind, memo, message):
    with pytest.raises(ledger.LedgerError, match=message):
        ledger.post(ada.pk, Decimal(amount), kind, "k", memo=memo)
    assert not LedgerEntry.objects.exists()
    assert ledger.balance(ada.pk).credits == 0


def test_usage_is_one_row_per_account_and_batch_exact_to_the_nano_dollar(ada):
    bob = User.objects.create(username="bob")
    charges = [(ada.pk, f"gen-{i:02d}", Decimal("0.000012345")) for i in range(50)]
    assert ledger.record_usage([*charges, (bob.pk, "gen-b", Decimal("0.1"))]) == 51
    rows = LedgerEntry.objects.filter(kind="usage").order_by("user_id")
    assert [(r.user_id, r.amount, r.generations, r.reference) for r in rows] == [
        (ada.pk, Decimal("-0.000617250"), 50, "gen-00"),
        (bob.pk, Decimal("-0.1"), 1, "gen-b"),
    ]
    assert ledger.balance(ada.pk).usage == Decimal("0.000617250")
    # The same batch again (a retried call) charges nothing: its key is the first generation.
    assert ledger.record_usage(list(reversed(charges))) == 0
    assert ledger.balance(ada.pk).usage == Decimal("0.000617250")
    # Free generations and generations without an owner write no row.
    assert ledger.record_usage([(ada.pk, "gen-free", Decimal(0)), (None, "gen-x", Decimal(1))]) == 0
    assert LedgerEntry.objects.filter(kind="usage").count() == 2


def test_concurrent_writers_never_lose_an_update(ada):
    """Eight threads post and charge at once; the balance is still exactly the rows' sum."""
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                ledger.post(ada.pk, Decimal("0.1"), "promo", f"t{n}-{i}")
                ledger.record_usage([(ada.pk, f"gen-{n}-{i}", Decimal("0.000000007"))])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    b = ledger.balance(ada.pk)
    assert b.credits == Decimal("12.0")
    assert b.usage == Decimal("0.000000840")


def test_reading_a_balance_is_one_query(ada):
    ledger.record_usage([(ada.pk, f"gen-{i}", Decimal("0.001")) for i in range(500)])
    with CaptureQueriesContext(connection) as queries:
        assert ledger.balance(ada.pk).usage == Decimal("0.5")
    assert len(queries) == 1
    assert "sum(" not in queries[0]["sql"].lower()


def test_an_account_without_rows_has_a_zero_balance(ada):
    b = ledger.balance(ada.pk)
    assert (b.credits, b.purchased, b.promotional, b.usage, b.available) == (0, 0, 0, 0, 0)


def test_credits_reach_the_gateway_record_after_commit(ada, redis_client):
    ledger.post(ada.pk, Decimal("3.000000001"), "purchase", "stripe:evt_9")
    fields = redis_client.hmget(gateway_state.account(ada.pk), ["credits", "purchased"])
    assert fields == [b"3000000001", b"3000000001"]
