"""Payments fixtures: a signed-in buyer, and Stripe events signed as Stripe signs them."""

import json
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client

from billing import local_stripe
from billing.models import Purchase

Send = Callable[..., Any]


@pytest.fixture
def buyer(db: None, redis_client: redis.Redis) -> User:
    return User.objects.create_user("ada", email="ada@example.com", password="a long pass 42")


@pytest.fixture
def signed_in(client: Client, buyer: User) -> Client:
    client.force_login(buyer)
    return client


@pytest.fixture
def send(client: Client) -> Send:
    """POST one event to the webhook endpoint, signed with the configured secret."""

    def post(body: dict[str, Any], secret: str | None = None) -> Any:
        payload = json.dumps(body).encode()
        return client.post(
            "/stripe/webhook",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=local_stripe.signature_header(payload, secret),
        )

    return post


def buy(client: Client, amount: str = "10", token: str = "form-1") -> Purchase:
    """Submit the buy form; the purchase it opened a checkout for."""
    response = client.post("/credits/buy", {"amount": amount, "token": token})
    assert response.status_code == 302, response.content
    return Purchase.objects.get(idempotency_key__endswith=f":{token}")


def completed(purchase: Purchase, payment_intent: str = "pi_1", event_id: str | None = None):
    body = local_stripe.checkout_completed(
        session_id=purchase.checkout_session_id or "",
        payment_intent=payment_intent,
        amount_total_cents=int(purchase.total * 100),
        metadata={"purchase_id": str(purchase.pk), "user_id": str(purchase.user_id)},
    )
    if event_id:
        body["id"] = event_id
    return body


def refunded(payment_intent: str, amount_refunded_cents: int, charge: str = "ch_1", **extra):
    return local_stripe.event(
        "charge.refunded",
        {
            "id": charge,
            "object": "charge",
            "payment_intent": payment_intent,
            "amount_refunded": amount_refunded_cents,
            "refunded": extra.pop("refunded", False),
            **extra,
        },
        event_id=extra.pop("event_id", None),
    )


def disputed(payment_intent: str, amount_cents: int, dispute: str = "dp_1"):
    return local_stripe.event(
        "charge.dispute.created",
        {
            "id": dispute,
            "object": "dispute",
            "charge": "ch_1",
            "payment_intent": payment_intent,
            "amount": amount_cents,
        },
    )
