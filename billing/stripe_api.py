"""The calls we make to Stripe, or to the local test checkout when no Stripe key is set.

Every call that creates something carries an idempotency key derived from our own row, so a
retry after a timeout or a crash can never create a second session or a second charge.
"""

from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.urls import reverse

from billing import local_stripe

LOCAL_CARD_BRAND = "visa"


def live() -> bool:
    """True when we talk to Stripe itself; False when the local test checkout stands in."""
    return bool(settings.STRIPE_SECRET_KEY)


def _key() -> dict[str, Any]:
    return {"api_key": settings.STRIPE_SECRET_KEY}


@dataclass(frozen=True)
class Session:
    id: str
    url: str


@dataclass(frozen=True)
class Charge:
    payment_intent_id: str
    succeeded: bool
    error: str = ""


@dataclass(frozen=True)
class Card:
    customer_id: str
    payment_method_id: str
    brand: str
    last4: str


def create_checkout_session(
    *,
    purchase_id: int,
    user_id: int,
    email: str,
    credits_cents: int,
    fee_cents: int,
    success_url: str,
    cancel_url: str,
) -> Session:
    metadata = {"purchase_id": str(purchase_id), "user_id": str(user_id)}
    if not live():
        session_id = local_stripe.new_id("cs")
        return Session(session_id, reverse("local_checkout", args=[session_id]))
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            _line("Credits", credits_cents),
            _line("Card processing fee (5.5%, min $0.80)", fee_cents),
        ],
        "client_reference_id": str(purchase_id),
        "metadata": metadata,
        # Copied to the payment, so refunds and disputes name the purchase they reverse.
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": cancel_url,
    }
    if email:
        params["customer_email"] = email
    session = stripe.checkout.Session.create(
        idempotency_key=f"checkout-{purchase_id}", **params, **_key()
    )
    return Session(session.id, session.url or "")


def _line(name: str, cents: int) -> dict[str, Any]:
    return {
        "quantity": 1,
        "price_data": {"currency": "usd", "unit_amount": cents, "product_data": {"name": name}},
    }


def create_setup_session(
    *, user_id: int, email: str, customer_id: str, success_url: str, cancel_url: str
) -> Session:
    """Where a person saves a card for auto top-up (Checkout in setup mode)."""
    if not live():
        return Session(local_stripe.new_id("cs"), reverse("local_card"))
    if not customer_id:
        details: dict[str, Any] = {"metadata": {"user_id": str(user_id)}}
        if email:
            details["email"] = email
        customer = stripe.Customer.create(
            idempotency_key=f"customer-{user_id}", **details, **_key()
        )
        customer_id = customer.id
    session = stripe.checkout.Session.create(
        mode="setup",
        currency="usd",
        customer=customer_id,
        metadata={"user_id": str(user_id)},
        success_url=success_url + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=cancel_url,
        **_key(),
    )
    return Session(session.id, session.url or "")


def saved_card(session_id: str) -> Card:
    """The card saved by a completed setup session."""
    session = stripe.checkout.Session.retrieve(
        session_id, expand=["setup_intent.payment_method"], **_key()
    )
    # Expanded objects: the library types them as "id or object".
    method: Any = getattr(session.setup_intent, "payment_method", None)
    card: Any = getattr(method, "card", None)
    return Card(
        customer_id=str(session.customer),
        payment_method_id=str(getattr(method, "id", "")),
        brand=str(getattr(card, "brand", "")),
        last4=str(getattr(card, "last4", "")),
    )


def local_card(card_number: str) -> Card:
    digits = "".join(ch for ch in card_number if ch.isdigit())
    # The local "payment method" remembers whether its card is the declining test card.
    declines = digits == local_stripe.DECLINED_CARD
    return Card(
        customer_id="",
        payment_method_id=local_stripe.new_id("pm_declines" if declines else "pm"),
        brand=LOCAL_CARD_BRAND,
        last4=digits[-4:],
    )


def charge_off_session(
    *,
    purchase_id: int,
    user_id: int,
    total_cents: int,
    customer_id: str,
    payment_method_id: str,
    idempotency_key: str,
) -> Charge:
    """Charge a saved card without the person present (auto top-up)."""
    if not live():
        local_intent = f"pi_local_topup_{purchase_id}"
        if payment_method_id.startswith("pm_declines"):
            return Charge(local_intent, False, "Your card was declined.")
        return Charge(local_intent, True)
    try:
        intent = stripe.PaymentIntent.create(
            amount=total_cents,
            currency="usd",
            customer=customer_id,
            payment_method=payment_method_id,
            off_session=True,
            confirm=True,
            metadata={"purchase_id": str(purchase_id), "user_id": str(user_id)},
            idempotency_key=idempotency_key,
            **_key(),
        )
    except stripe.CardError as error:
        failed: Any = getattr(error.error, "payment_intent", None) or {}
        return Charge(str(failed.get("id", "")), False, error.user_message or str(error))
    return Charge(
        intent.id,
        intent.status == "succeeded",
        "" if intent.status == "succeeded" else f"Payment {intent.status}.",
    )
