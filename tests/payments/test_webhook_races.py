"""The same event delivered several times at once (Stripe retries while the first delivery is
still running) credits once; a refund racing its completion ends right."""

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from billing import ledger, local_stripe
from billing.models import LedgerEntry, StripeEvent
from tests.payments.conftest import buy, completed, refunded

pytestmark = pytest.mark.django_db(transaction=True)


def deliver_at_once(bodies: list[dict]) -> list[int]:
    start = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def post(body: dict) -> None:
        payload = json.dumps(body).encode()
        try:
            start.wait()
            response = Client().post(
                "/stripe/webhook",
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=local_stripe.signature_header(payload),
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return statuses


def test_one_event_delivered_eight_times_at_once_credits_once(signed_in, buyer):
    purchase = buy(signed_in, "40")
    event = completed(purchase, "pi_race")
    assert deliver_at_once([event] * 8) == [200] * 8
    assert ledger.balance(buyer.pk).available == Decimal("40")
    assert LedgerEntry.objects.filter(kind="purchase").count() == 1
    assert StripeEvent.objects.count() == 1


def test_refund_racing_its_completion_ends_right(signed_in, buyer):
    purchase = buy(signed_in, "40")
    bodies = [completed(purchase, "pi_rr"), refunded("pi_rr", 1000)] * 3
    assert sorted(deliver_at_once(bodies)) == [200] * 6
    assert ledger.balance(buyer.pk).available == Decimal("30")
    assert not StripeEvent.objects.filter(status="waiting").exists()
