"""Auto top-up: one off-session charge per crossing of the threshold, even under a race."""

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from billing import ledger, stripe_api, topup
from billing.models import BillingProfile, Purchase


def with_card(user, number="4242424242424242", threshold="5", amount="20") -> BillingProfile:
    card = stripe_api.local_card(number)
    return BillingProfile.objects.create(
        user=user,
        auto_topup=True,
        topup_threshold=Decimal(threshold),
        topup_amount=Decimal(amount),
        payment_method_id=card.payment_method_id,
        card_brand=card.brand,
        card_last4=card.last4,
    )


def available(user) -> Decimal:
    return ledger.balance(user.pk).available


@pytest.mark.django_db(transaction=True)
def test_fifty_requests_draining_the_balance_charge_once(buyer):
    with_card(buyer)
    ledger.post(buyer.pk, Decimal("6"), "promo", "welcome")
    start = threading.Barrier(50)
    errors: list[BaseException] = []

    def request(n: int) -> None:
        try:
            start.wait()
            # What the metering path does after charging a generation.
            ledger.record_usage([(buyer.pk, f"gen-{n}", Decimal("0.05"))])
            topup.maybe_top_up(buyer.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert not errors
    [charge] = Purchase.objects.filter(user=buyer)
    assert charge.source == "auto_topup" and charge.status == "paid"
    assert charge.total == Decimal("21.10")
    assert available(buyer) == Decimal("6") - Decimal("2.50") + Decimal("20")
    # The beat task afterwards finds nothing due.
    assert topup.top_up_all() == 0
    assert Purchase.objects.count() == 1


@pytest.mark.django_db
def test_each_new_crossing_charges_again(buyer):
    with_card(buyer)
    ledger.post(buyer.pk, Decimal("6"), "promo", "welcome")
    assert topup.maybe_top_up(buyer.pk) is None  # above the threshold
    ledger.record_usage([(buyer.pk, "gen-a", Decimal("2"))])
    assert paid(topup.maybe_top_up(buyer.pk))
    assert topup.maybe_top_up(buyer.pk) is None
    ledger.record_usage([(buyer.pk, "gen-b", Decimal("21"))])
    assert topup.top_up_all() == 1
    assert Purchase.objects.filter(status="paid").count() == 2
    assert available(buyer) == Decimal("6") - 2 + 20 - 21 + 20


@pytest.mark.django_db
def test_a_declined_card_fails_once_is_shown_and_emailed(
    buyer, signed_in, django_capture_on_commit_callbacks
):
    with_card(buyer, number="4000000000000002")
    ledger.post(buyer.pk, Decimal("1"), "promo", "welcome")
    with django_capture_on_commit_callbacks(execute=True):
        failed = topup.maybe_top_up(buyer.pk)
    assert failed is not None
    assert failed.status == "failed" and "declined" in failed.failure
    for _ in range(3):  # retries of the same crossing charge nothing more
        topup.top_up_all()
    assert Purchase.objects.count() == 1
    assert len(mail.outbox) == 1 and "Auto top-up failed" in mail.outbox[0].subject
    page = signed_in.get("/credits").content.decode()
    assert "Auto top-up failed" in page and "Your card was declined." in page
    assert available(buyer) == Decimal("1")

    # A new card is a new attempt for the same low balance.
    signed_in.post("/credits/test-card", {"number": "4242 4242 4242 4242"})
    assert paid(topup.maybe_top_up(buyer.pk))
    assert available(buyer) == Decimal("21")
    assert "Auto top-up failed" not in signed_in.get("/credits").content.decode()


@pytest.mark.django_db
def test_auto_topup_needs_a_card_and_a_buyable_amount(
    signed_in, buyer, django_capture_on_commit_callbacks
):
    response = signed_in.post(
        "/credits/auto-top-up", {"auto_topup": "on", "topup_threshold": "5", "topup_amount": "20"}
    )
    assert response.status_code == 400 and b"Save a card first" in response.content
    signed_in.post("/credits/test-card", {"number": "4242424242424242"})
    response = signed_in.post(
        "/credits/auto-top-up", {"auto_topup": "on", "topup_threshold": "5", "topup_amount": "2"}
    )
    assert response.status_code == 400 and b"minimum purchase is $5.00" in response.content
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            "/credits/auto-top-up",
            {"auto_topup": "on", "topup_threshold": "5", "topup_amount": "20"},
        )
    assert response.status_code == 302
    # Saving it with a balance already under the threshold tops up at once.
    assert Purchase.objects.get().status == "paid"
    assert available(buyer) == Decimal("20")


def paid(purchase: Purchase | None) -> bool:
    return purchase is not None and purchase.status == "paid"
