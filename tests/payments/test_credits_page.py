"""The credits page: balance split, history with receipts and daily usage, low-balance banner."""

from decimal import Decimal

import pytest
from django.core import mail

from billing import alerts, ledger
from tests.payments.conftest import buy, completed, refunded

pytestmark = pytest.mark.django_db


def test_balance_history_and_receipt(signed_in, buyer, send):
    ledger.post(buyer.pk, Decimal("2"), "promo", "welcome", memo="Welcome credit")
    purchase = buy(signed_in, "10")
    send(completed(purchase, "pi_p"))
    send(refunded("pi_p", 250))
    ledger.record_usage([(buyer.pk, "gen-1", Decimal("0.25")), (buyer.pk, "gen-2", Decimal("0.5"))])

    page = signed_in.get("/credits").content.decode()

    assert 'id="balance">$8.75<' in page  # 2 + 10 - 2.50 - 0.75
    assert 'id="purchased">$7.50<' in page and 'id="promotional">$2.00<' in page
    assert 'id="used">$0.75<' in page
    assert "Welcome credit" in page and f"Card purchase {purchase.number}" in page
    assert f"Refund of {purchase.number}" in page and "\u2212$2.50" in page
    assert "Usage: 2 generations" in page and "\u2212$0.75" in page
    assert "/activity?date=" in page
    assert f"/credits/receipts/{purchase.pk}" in page

    receipt = signed_in.get(f"/credits/receipts/{purchase.pk}").content.decode()
    assert purchase.number in receipt and "ada@example.com" in receipt
    assert "$10.00" in receipt and "$0.80" in receipt and 'id="receipt-total">$10.80<' in receipt


def test_history_is_paginated(signed_in, buyer):
    for n in range(25):
        ledger.post(buyer.pk, Decimal("1"), "promo", f"grant-{n}", memo=f"Grant {n}")
    first = signed_in.get("/credits").content.decode()
    assert "Grant 24" in first and "Grant 4<" not in first and "Page 1 of 2" in first
    second = signed_in.get("/credits?page=2").content.decode()
    assert "Grant 4<" in second and "Grant 24" not in second


def test_unpaid_purchases_have_no_receipt(signed_in):
    purchase = buy(signed_in)
    assert signed_in.get(f"/credits/receipts/{purchase.pk}").status_code == 404


def test_credits_page_needs_sign_in(client):
    assert client.get("/credits").status_code == 302


def test_low_balance_banner_and_one_email_per_fall(signed_in, buyer):
    ledger.post(buyer.pk, Decimal("3"), "promo", "welcome")
    assert "low-balance-banner" not in signed_in.get("/models").content.decode()
    response = signed_in.post(
        "/credits/low-balance", {"low_balance_threshold": "5", "low_balance_email": "on"}
    )
    assert response.status_code == 302
    page = signed_in.get("/credits").content.decode()
    assert "low-balance-banner" in page and "Your balance is low: $3.00" in page

    assert alerts.send_low_balance_emails() == 1
    assert alerts.send_low_balance_emails() == 0
    assert len(mail.outbox) == 1 and "$3.00" in mail.outbox[0].body
    # Back above the threshold: no banner, and the next fall e-mails again.
    ledger.post(buyer.pk, Decimal("10"), "promo", "more")
    assert "low-balance-banner" not in signed_in.get("/credits").content.decode()
    alerts.send_low_balance_emails()
    ledger.record_usage([(buyer.pk, "gen-big", Decimal("9"))])
    assert alerts.send_low_balance_emails() == 1
