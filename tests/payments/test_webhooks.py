"""Stripe webhooks: verified by the stripe library, stored, idempotent, safe in any order."""

import json
from decimal import Decimal

import pytest

from billing import ledger
from billing.models import LedgerEntry, Purchase, StripeEvent
from tests.payments.conftest import buy, completed, disputed, refunded

pytestmark = pytest.mark.django_db


def available(user) -> Decimal:
    return ledger.balance(user.pk).available


def test_completed_checkout_credits_the_credits_not_the_fee(signed_in, buyer, send):
    purchase = buy(signed_in, "10")
    assert purchase.total == Decimal("10.80") and purchase.status == "pending"
    assert available(buyer) == 0

    response = send(completed(purchase))

    assert response.status_code == 200
    assert available(buyer) == Decimal("10")
    purchase.refresh_from_db()
    assert purchase.status == "paid" and purchase.payment_intent_id == "pi_1"
    row = LedgerEntry.objects.get(user=buyer)
    assert (
        row.kind == "purchase" and row.idempotency_key == f"stripe:{purchase.checkout_session_id}"
    )
    stored = StripeEvent.objects.get()
    assert stored.type == "checkout.session.completed" and stored.status == "processed"
    assert json.loads(stored.payload)["data"]["object"]["id"] == purchase.checkout_session_id


def test_bad_signature_is_400_and_changes_nothing(signed_in, buyer, send, client):
    purchase = buy(signed_in)
    response = send(completed(purchase), secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400
    unsigned = client.post("/stripe/webhook", data=b"{}", content_type="application/json")
    assert unsigned.status_code == 400
    assert available(buyer) == 0 and not StripeEvent.objects.exists()
    purchase.refresh_from_db()
    assert purchase.status == "pending"


def test_signed_garbage_is_400(send, client):
    from billing import local_stripe

    payload = b'{"id": "evt_1", "type": "x", "data": []}'
    response = client.post(
        "/stripe/webhook",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=local_stripe.signature_header(payload),
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_unknown_type_is_acknowledged_stored_and_ignored(send, buyer):
    from billing import local_stripe

    response = send(local_stripe.event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert StripeEvent.objects.get().status == "ignored"
    assert available(buyer) == 0


def test_replayed_five_times_and_out_of_order_credits_once(signed_in, buyer, send):
    purchase = buy(signed_in, "20")  # pays $21.10
    done = completed(purchase, "pi_42", event_id="evt_done")
    partial = refunded("pi_42", 500, event_id="evt_r1")  # $5 back
    # The refund arrives first, then everything five times, shuffled.
    assert send(partial).status_code == 200
    assert StripeEvent.objects.get(event_id="evt_r1").status == "waiting"
    assert available(buyer) == 0
    for _ in range(5):
        assert send(done).status_code == 200
        assert send(partial).status_code == 200
    assert available(buyer) == Decimal("15")
    assert LedgerEntry.objects.filter(user=buyer, kind="purchase").count() == 1
    assert LedgerEntry.objects.filter(user=buyer, kind="refund").count() == 1
    assert StripeEvent.objects.count() == 2
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_partial_then_full_refund_takes_back_what_was_bought(signed_in, buyer, send):
    purchase = buy(signed_in, "20")
    send(completed(purchase, "pi_7"))
    send(refunded("pi_7", 500, event_id="evt_a"))
    assert available(buyer) == Decimal("15")
    # The full refund returns the whole charge, fee included: only the credits come back off.
    send(refunded("pi_7", 2110, refunded=True, event_id="evt_b"))
    assert available(buyer) == Decimal("0")
    # The older partial event delivered late takes nothing more.
    send(refunded("pi_7", 500, event_id="evt_a_again"))
    assert available(buyer) == Decimal("0")
    purchase.refresh_from_db()
    assert purchase.reversed == Decimal("20")


def test_refund_after_spending_leaves_a_negative_balance(signed_in, buyer, send):
    purchase = buy(signed_in, "10")
    send(completed(purchase, "pi_9"))
    ledger.record_usage([(buyer.pk, "gen-spent", Decimal("7.5"))])
    send(refunded("pi_9", 1080, refunded=True))
    assert available(buyer) == Decimal("-7.5")


def test_dispute_takes_the_credits_back_once(signed_in, buyer, send):
    purchase = buy(signed_in, "50")
    send(completed(purchase, "pi_d"))
    event = disputed("pi_d", int(purchase.total * 100))
    for _ in range(3):
        assert send(event).status_code == 200
    assert available(buyer) == 0
    refund_rows = LedgerEntry.objects.filter(user=buyer, kind="refund")
    assert [r.amount for r in refund_rows] == [Decimal("-50")]
    # A refund of the same charge on top of the lost dispute takes nothing more.
    send(refunded("pi_d", 1000))
    assert available(buyer) == 0


def test_reloading_the_success_page_credits_nothing(signed_in, buyer, send):
    purchase = buy(signed_in, "10")
    url = f"/credits/success?session_id={purchase.checkout_session_id}"
    for _ in range(10):
        page = signed_in.get(url)
        assert page.status_code == 200 and b"Processing" in page.content
    assert available(buyer) == 0
    send(completed(purchase))
    for _ in range(10):
        page = signed_in.get(url)
        assert b"Credits added" in page.content
    assert available(buyer) == Decimal("10")
    status = signed_in.get(f"/credits/purchases/{purchase.pk}/status").json()
    assert status == {"status": "paid", "balance": "10.00"}


def test_double_click_opens_one_checkout_two_tabs_two(signed_in, buyer, send):
    first = buy(signed_in, "10", token="tab-a")
    again = buy(signed_in, "10", token="tab-a")
    other = buy(signed_in, "25", token="tab-b")
    assert first.pk == again.pk and first.checkout_session_id == again.checkout_session_id
    assert other.pk != first.pk
    assert Purchase.objects.filter(user=buyer).count() == 2
    # Only what is paid is credited: the second tab pays, the first never does.
    send(completed(other, "pi_b"))
    assert available(buyer) == Decimal("25")


def test_buy_form_rejects_amounts_with_a_reason(signed_in):
    response = signed_in.post("/credits/buy", {"amount": "4", "token": "t"})
    assert response.status_code == 400
    assert b"The minimum purchase is $5.00." in response.content
    response = signed_in.post("/credits/buy", {"amount": "lots", "token": "t"})
    assert response.status_code == 400 and b"Enter an amount in dollars" in response.content
    assert not Purchase.objects.exists()


def test_someone_elses_checkout_is_404(signed_in, client, buyer):
    from django.contrib.auth.models import User

    purchase = buy(signed_in)
    eve = User.objects.create_user("eve", email="eve@example.com", password="x" * 12)
    client.force_login(eve)
    assert client.get(purchase.checkout_url).status_code == 404
    assert (
        client.get(f"/credits/success?session_id={purchase.checkout_session_id}").status_code == 404
    )
    assert client.get(f"/credits/purchases/{purchase.pk}/status").status_code == 404
