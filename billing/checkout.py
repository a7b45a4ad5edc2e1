"""Buying credits by card: a purchase row, then a Checkout Session (Stripe's, or the local one).

The buy form carries a one-time token; the purchase is unique by it, so a double click or a
resubmitted form reuses the first purchase and its session instead of opening a second one.
Two tabs have two tokens and are two purchases: each is credited when, and only if, it is paid.
"""

import secrets
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from billing import fees, local_stripe, stripe_api
from billing.models import Purchase


def purchase_once(user_id: int, quote: fees.Quote, key: str,
                  source: str = Purchase.Source.CHECKOUT) -> Purchase:
    """The purchase made under `key`: created by the first caller, found by every later one."""
    try:
        with transaction.atomic():
            return Purchase.objects.create(
                user_id=user_id, source=source, credits=quote.credits, fee=quote.fee,
                total=quote.total, idempotency_key=key,
            )
    except IntegrityError:
        return Purchase.objects.get(idempotency_key=key)


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


def start_purchase(
    user: AbstractBaseUser, credits: Decimal, token: str, *, success_url: str, cancel_url: str
) -> Purchase:
    """The purchase for this buy form (new, or the one a first click already made).

    Raises fees.AmountError for an amount that cannot be bought.
    """
    quote = fees.quote(credits)
    key = f"checkout:{user.pk}:{token}"
    purchase = purchase_once(int(user.pk), quote, key)
    if purchase.checkout_url:
        return purchase
    # Stripe's idempotency key is the purchase's, so a racing second click gets the same session.
    session = stripe_api.create_checkout_session(
        purchase_id=purchase.pk,
        user_id=int(user.pk),
        email=getattr(user, "email", ""),
        credits_cents=int(quote.credits * 100),
        fee_cents=int(quote.fee * 100),
        success_url=success_url,
        cancel_url=cancel_url,
    )
    with transaction.atomic():
        locked = Purchase.objects.select_for_update().get(pk=purchase.pk)
        if not locked.checkout_url:
            locked.checkout_session_id = session.id
            locked.checkout_url = session.url
            locked.save(update_fields=["checkout_session_id", "checkout_url"])
    return Purchase.objects.get(pk=purchase.pk)


def pay_locally(purchase: Purchase, webhook_url: str) -> None:
    """The local test checkout's Pay button: Stripe would now send checkout.session.completed.

    The event is delivered after this transaction commits, by the worker (inline in tests),
    signed with the webhook secret and posted to `webhook_url`, as Stripe does.
    """
    from billing.tasks import deliver_local_event

    body = local_stripe.checkout_completed(
        session_id=purchase.checkout_session_id or "",
        payment_intent=purchase.payment_intent_id or local_stripe.new_id("pi"),
        amount_total_cents=int(purchase.total * 100),
        metadata={"purchase_id": str(purchase.pk), "user_id": str(purchase.user_id)},
    )
    transaction.on_commit(lambda: deliver_local_event.delay(webhook_url, body))


def receipt_lines(purchase: Purchase) -> list[tuple[str, Decimal]]:
    return [("Credits", purchase.credits), ("Card processing fee", purchase.fee)]
