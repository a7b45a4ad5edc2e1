"""The metering consumer charges each generation once, in the transaction that stores it."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from billing.ledger import balance
from billing.models import LedgerEntry
from tests.usage.conftest import usage_event
from usage.metering import store_batch
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


def entries(events: list[dict]) -> list:
    return [(f"1-{i}", {b"event": json.dumps(e).encode()}) for i, e in enumerate(events)]


def test_every_stored_generation_is_charged_once_to_the_nano_dollar():
    ada = User.objects.create(username="ada")
    bob = User.objects.create(username="bob")
    events = [
        usage_event(ada.pk, cost="0.000000001", cost_nanos=1),
        usage_event(ada.pk, cost="0.000045160", cost_nanos=45160),
        usage_event(bob.pk, cost="1.500000000", cost_nanos=1_500_000_000),
        usage_event(bob.pk, cost="0", cost_nanos=0),
    ]
    store_batch(entries(events))
    # A crash between commit and XACK delivers the same entries again (and another consumer
    # may have claimed some of them): nothing is charged twice.
    store_batch(entries([*events[1:], events[0]]))

    assert Generation.objects.count() == 4
    assert balance(ada.pk).usage == Decimal("0.000045161")
    assert balance(bob.pk).usage == Decimal("1.5")
    # One usage row per account and batch, counting its generations; a free one counts none.
    rows = LedgerEntry.objects.filter(kind="usage")
    assert sorted((r.user_id, r.generations) for r in rows) == [(ada.pk, 2), (bob.pk, 1)]


def test_a_batch_that_repeats_some_generations_charges_only_the_new_ones():
    ada = User.objects.create(username="ada")
    first = [usage_event(ada.pk, cost="0.25", cost_nanos=250_000_000) for _ in range(3)]
    store_batch(entries(first))
    later = usage_event(ada.pk, cost="0.5", cost_nanos=500_000_000)
    store_batch(entries([first[2], later, first[0]]))  # claimed back, with one new event

    assert balance(ada.pk).usage == Decimal("1.25")
    assert sum(r.generations for r in LedgerEntry.objects.filter(kind="usage")) == 4


def test_a_generation_of_a_deleted_account_is_stored_without_a_charge():
    store_batch(entries([usage_event(987654, cost="0.1", cost_nanos=100_000_000)]))
    assert Generation.objects.get().user_id is None
    assert not LedgerEntry.objects.exists()
