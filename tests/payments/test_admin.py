"""Staff find purchases, refunds and Stripe events by e-mail or Stripe id; money is read-only."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.payments.conftest import buy, completed, refunded

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "x" * 12))
    return admin


def test_search_purchases_refunds_and_events(signed_in, send, buyer, staff):
    purchase = buy(signed_in, "10")
    send(completed(purchase, "pi_find_me"))
    send(refunded("pi_find_me", 300))

    page = staff.get("/admin/billing/purchase/", {"q": "ada@example.com"}).content.decode()
    assert purchase.number in page
    page = staff.get("/admin/billing/purchase/", {"q": "pi_find_me"}).content.decode()
    assert purchase.number in page
    page = staff.get("/admin/billing/reversal/", {"q": "pi_find_me"}).content.decode()
    assert "3.00" in page
    page = staff.get("/admin/billing/stripeevent/", {"q": "charge.refunded"}).content.decode()
    assert "1 result" in page and "evt_local_" in page
    detail = staff.get(f"/admin/billing/purchase/{purchase.pk}/change/")
    assert detail.status_code == 200 and b'name="credits"' not in detail.content
