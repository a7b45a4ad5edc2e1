"""BYOK spend on API keys: `/api/v1/key` reports each key's BYOK list-price usage
(`byok_usage*`), and a key with `include_byok_in_limit` has that usage counted toward its
limit at the gateway (402 once over it) and in `limit_remaining`."""

import time
from decimal import Decimal

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import ApiKey
from tests.payments.test_byok_gateway import OWN_KEY, ask, gateway  # noqa: F401
from tests.payments.test_byok_gateway import account as byok_account

pytestmark = pytest.mark.django_db(transaction=True)


def current(key: str) -> dict:
    reply = Client().get("/api/v1/key", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert reply.status_code == 200, reply.content
    return reply.json()["data"]


def small(gateway: str, key: str) -> httpx.Response:  # noqa: F811
    # A small max_tokens keeps the hold (the BYOK fee on the maximum) under the key's limit.
    return httpx.post(gateway + "/api/v1/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {key}"},
                      json={"model": "openai/gpt-4o-mini", "provider": {"only": ["openai"]},
                            "max_tokens": 20, "messages": [{"role": "user", "content": "Hi"}]})


def test_byok_usage_is_reported_and_counts_toward_the_limit_when_asked(gateway):  # noqa: F811
    key = byok_account("ada@example.com", OWN_KEY)
    usage = ask(gateway, key, {"only": ["openai"]})["usage"]
    assert usage["is_byok"] is True
    listed = usage["cost_details"]["upstream_inference_cost"]
    data = current(key)
    assert data["byok_usage"] == pytest.approx(listed)
    assert data["byok_usage_daily"] == data["byok_usage_monthly"] == pytest.approx(listed)
    assert data["usage"] == 0  # the fee is nothing within the monthly allowance

    row = ApiKey.objects.get(user=User.objects.get(email="ada@example.com"))
    row.limit = Decimal(str(listed)) / 2
    row.save()
    time.sleep(0.6)  # the gateway caches a key's record for half a second
    allowed = small(gateway, key)  # BYOK usage does not count toward this key's limit
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["usage"]["is_byok"] is True

    row.include_byok_in_limit = True
    row.save()
    time.sleep(0.6)
    assert current(key)["limit_remaining"] == 0
    refused = small(gateway, key)
    assert refused.status_code == 402, refused.text
    assert "limit" in refused.json()["error"]["message"]
