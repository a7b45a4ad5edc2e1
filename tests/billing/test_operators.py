"""Operators move money with a command or the admin: always a new ledger row with a reason."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from billing.ledger import balance, post
from billing.models import LedgerEntry
from config import gateway_state

pytestmark = pytest.mark.django_db(transaction=True)


def grant(**options: str) -> str:
    out = io.StringIO()
    call_command("grant_credits", stdout=out, **options)
    return out.getvalue()


def test_grant_credits_writes_one_row_and_reaches_the_gateway(ada, redis_client):
    output = grant(email="ADA@example.com", amount="10", reason="conference voucher", key="v-1")
    grant(email="ada@example.com", amount="10", reason="conference voucher", key="v-1")
    assert "available now 35" in output
    row = LedgerEntry.objects.get(idempotency_key="v-1")
    assert (row.kind, row.amount, row.memo) == ("promo", Decimal("10"), "conference voucher")
    assert balance(ada.pk).promotional == Decimal("35")
    assert redis_client.hget(gateway_state.account(ada.pk), "credits") == b"35000000000"


def test_a_negative_grant_is_an_adjustment_with_its_reason(ada):
    grant(email="ada@example.com", amount="-2.5", reason="duplicate voucher")
    row = LedgerEntry.objects.get(kind="adjustment")
    assert (row.amount, row.memo) == (Decimal("-2.5"), "duplicate voucher")
    assert balance(ada.pk).credits == Decimal("22.5")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"email": "nobody@example.com", "amount": "1"}, "no account"),
        ({"email": "ada@example.com", "amount": "ten"}, "number of dollars"),
        ({"email": "ada@example.com", "amount": "0.0000000001"}, "nano-dollars"),
    ],
)
def test_grant_credits_refuses_with_a_clear_message(ada, options, message):
    with pytest.raises(CommandError, match=message):
        grant(**options)


@pytest.fixture
def staff() -> Client:
    admin = User.objects.create_superuser("root", "root@example.com", "pw-root-12345")
    client = Client()
    client.force_login(admin)
    return client


def test_ledger_rows_are_searchable_and_read_only_in_the_admin(ada, staff):
    entry = post(ada.pk, Decimal("5"), "purchase", "stripe:cs_test_42", reference="cs_test_42")
    listing = staff.get("/admin/billing/ledgerentry/?q=cs_test_42")
    assert listing.status_code == 200 and b"cs_test_42" in listing.content
    assert b"cli:" not in listing.content  # the fixture's grant does not match the search
    page = staff.get(f"/admin/billing/ledgerentry/{entry.pk}/change/")
    assert page.status_code == 200 and b'name="amount"' not in page.content  # view only
    assert staff.post(f"/admin/billing/ledgerentry/{entry.pk}/delete/").status_code == 403


def test_an_adjustment_in_the_admin_is_a_new_row_with_its_reason(ada, staff):
    form = {"user": ada.pk, "kind": "adjustment", "amount": "-1.25", "memo": "goodwill reversal"}
    response = staff.post("/admin/billing/ledgerentry/add/", form)
    assert response.status_code == 302, response.content[:2000]
    row = LedgerEntry.objects.get(kind="adjustment")
    assert row.amount == Decimal("-1.25") and row.memo.startswith("goodwill reversal (by root")
    assert balance(ada.pk).credits == Decimal("23.75")
    # Without a reason the admin refuses, and nothing is written.
    refused = staff.post("/admin/billing/ledgerentry/add/", {**form, "memo": " "})
    assert refused.status_code == 200
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 1
