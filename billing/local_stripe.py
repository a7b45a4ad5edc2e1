"""Stripe's side, played locally when no Stripe key is configured (make run, tests).

It builds events shaped like Stripe's, signs them with STRIPE_WEBHOOK_SECRET exactly as
Stripe signs them (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">`) and
posts them to the webhook endpoint, where the stripe library verifies them as in production.
"""

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import httpx
from django.conf import settings

# The card numbers of Stripe's test mode: this one is declined, any other succeeds.
DECLINED_CARD = "4000000000000002"


def new_id(prefix: str) -> str:
    return f"{prefix}_local_{secrets.token_hex(12)}"


def signature_header(payload: bytes, secret: str | None = None, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    key = (secret or settings.STRIPE_WEBHOOK_SECRET).encode()
    signed = f"{timestamp}.".encode() + payload
    return f"t={timestamp},v1={hmac.new(key, signed, hashlib.sha256).hexdigest()}"


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }


def checkout_completed(
    session_id: str,
    payment_intent: str,
    amount_total_cents: int,
    metadata: dict[str, str],
) -> dict[str, Any]:
    return event(
        "checkout.session.completed",
        {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": amount_total_cents,
            "currency": "usd",
            "payment_intent": payment_intent,
            "client_reference_id": metadata.get("purchase_id"),
            "metadata": metadata,
        },
    )


def deliver(webhook_url: str, body: dict[str, Any]) -> int:
    """POST one signed event as Stripe does; returns the endpoint's HTTP status."""
    payload = json.dumps(body).encode()
    response = httpx.post(
        webhook_url,
        content=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature_header(payload)},
        timeout=10,
    )
    return response.status_code
