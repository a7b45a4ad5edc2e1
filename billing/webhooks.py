"""Stripe events: verified, stored once, and turned into ledger rows.

- `checkout.session.completed` (and `...async_payment_succeeded`) credits a purchase once,
  keyed by the session id; `payment_intent.succeeded` credits an auto top-up the same way.
- `charge.refunded` takes back what was refunded (its `amount_refunded` is cumulative, so a
  partial refund then a full one take back the difference, and a replay takes back nothing);
  `charge.dispute.created` takes back the disputed amount. Credits taken back never exceed the
  credits bought; the balance may go negative, and paid models then answer 402.
- A refund or dispute that arrives before its purchase completed waits, stored, and is applied
  right after the completion, so events can come in any order.
- Every event is stored with its id, type and raw payload; a replayed id changes nothing. An
  unknown type is stored and acknowledged.
"""

import json
import logging
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing import ledger
from billing.models import LedgerEntry, Purchase, Reversal, StripeEvent

log = logging.getLogger(__name__)
CENTS = Decimal(100)


class BadEvent(ValueError):
    """The payload is not a Stripe event signed with our webhook secret."""


def receive(payload: bytes, signature: str) -> StripeEvent:
    """Verify, store and apply one delivery; raises BadEvent (HTTP 400) when unsigned."""
    try:
        stripe.Webhook.construct_event(
            payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET
        )
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError) as error:
        raise BadEvent(str(error)) from None
    # Plain dicts from here on: the payload exactly as Stripe sent it.
    body = json.loads(payload)
    data = body.get("data") if isinstance(body, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not body.get("id") or not body.get("type"):
        raise BadEvent("not an event: id, type and data.object are required")
    intent = _payment_intent_of(obj)
    with transaction.atomic():
        if intent:
            # Events about one payment are applied one at a time: a refund that finds no paid
            # purchase is stored as waiting before the completion looks for waiting events.
            with connection.cursor() as cursor:
                cursor.execute(
                    "select pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"stripe:{intent}"]
                )
        row, created = StripeEvent.objects.get_or_create(
            event_id=body["id"],
            defaults={
                "type": body["type"],
                "payload": payload.decode("utf-8"),
                "status": StripeEvent.Status.IGNORED,
                "payment_intent_id": intent,
            },
        )
        if created:
            _apply(row, body["type"], obj)
    return row


def _payment_intent_of(obj: dict[str, Any]) -> str:
    if obj.get("object") == "payment_intent":
        return str(obj.get("id") or "")
    return str(obj.get("payment_intent") or "")


HANDLED = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "payment_intent.succeeded",
    "charge.refunded",
    "charge.dispute.created",
}


def _apply(row: StripeEvent, event_type: str, obj: dict[str, Any]) -> None:
    if event_type not in HANDLED:
        return  # stored as ignored: acknowledged so Stripe stops retrying
    if event_type.startswith("checkout.session."):
        done = _checkout_completed(obj)
    elif event_type == "payment_intent.succeeded":
        done = _payment_succeeded(obj)
    else:
        done = _reverse(event_type, obj)
    row.status = StripeEvent.Status.PROCESSED if done else StripeEvent.Status.WAITING
    row.processed_at = timezone.now() if done else None
    row.save(update_fields=["status", "processed_at"])


def _purchase_for(obj: dict[str, Any]) -> Purchase | None:
    """The purchase an object is about, locked: by our metadata, else by Stripe's ids."""
    rows = Purchase.objects.select_for_update()
    purchase_id = (obj.get("metadata") or {}).get("purchase_id")
    if purchase_id and str(purchase_id).isdigit():
        found = rows.filter(pk=int(purchase_id)).first()
        if found:
            return found
    if obj.get("object") == "checkout.session":
        return rows.filter(checkout_session_id=obj.get("id")).first()
    intent = _payment_intent_of(obj)
    return rows.filter(payment_intent_id=intent).first() if intent else None


def _checkout_completed(obj: dict[str, Any]) -> bool:
    if obj.get("mode") != "payment":
        return True  # a saved card (setup mode) is picked up on the return page
    if obj.get("payment_status") != "paid":
        return True  # paid later: async_payment_succeeded credits it
    purchase = _purchase_for(obj)
    if purchase is None:
        log.warning("checkout session %s names no purchase of ours", obj.get("id"))
        return True
    if obj.get("payment_intent") and not purchase.payment_intent_id:
        purchase.payment_intent_id = str(obj["payment_intent"])
    credit(purchase, ledger_key=f"stripe:{obj['id']}")
    return True


def _payment_succeeded(obj: dict[str, Any]) -> bool:
    purchase = _purchase_for(obj)
    if purchase is None or purchase.source != Purchase.Source.AUTO_TOPUP:
        return True  # checkout payments are credited by their session's event
    purchase.payment_intent_id = str(obj["id"])
    credit(purchase, ledger_key=f"stripe:{obj['id']}")
    return True


def credit(purchase: Purchase, *, ledger_key: str) -> None:
    """Mark a locked purchase paid and post its credits once, then apply what waited for it."""
    ledger.post(
        purchase.user_id,
        purchase.credits,
        LedgerEntry.Kind.PURCHASE,
        ledger_key,
        memo=f"{purchase.label} {purchase.number}",
        reference=purchase.payment_intent_id or purchase.checkout_session_id or "",
    )
    if purchase.status != Purchase.Status.PAID:
        purchase.status = Purchase.Status.PAID
        purchase.paid_at = timezone.now()
        purchase.failure = ""
    purchase.save()
    if purchase.payment_intent_id:
        _apply_waiting(purchase.payment_intent_id)


def _apply_waiting(payment_intent_id: str) -> None:
    waiting = StripeEvent.objects.select_for_update().filter(
        payment_intent_id=payment_intent_id, status=StripeEvent.Status.WAITING
    )
    for row in waiting.order_by("received_at", "id"):
        event = json.loads(row.payload)
        _apply(row, event["type"], event["data"]["object"])


def _reverse(event_type: str, obj: dict[str, Any]) -> bool:
    """Take back refunded or disputed credits; False when the purchase is not credited yet."""
    purchase = _purchase_for(obj)
    if purchase is None or purchase.status != Purchase.Status.PAID:
        return False
    room = purchase.credits - purchase.reversed
    if event_type == "charge.refunded":
        kind = Reversal.Kind.REFUND
        refunded = min(Decimal(int(obj.get("amount_refunded") or 0)) / CENTS, purchase.credits)
        already = sum((r.amount for r in purchase.reversals.filter(kind=kind)), start=Decimal(0))
        amount = min(refunded - already, room)
        reference = f"refund:{obj['id']}:{int(obj.get('amount_refunded') or 0)}"
        memo = f"Refund of {purchase.number}"
    else:
        kind = Reversal.Kind.DISPUTE
        amount = min(Decimal(int(obj.get("amount") or 0)) / CENTS, room)
        reference = f"dispute:{obj['id']}"
        memo = f"Card dispute on {purchase.number}"
    if amount <= 0:
        return True
    Reversal.objects.create(purchase=purchase, kind=kind, reference=reference, amount=amount)
    ledger.post(
        purchase.user_id,
        -amount,
        LedgerEntry.Kind.REFUND,
        reference,
        memo=memo,
        reference=purchase.payment_intent_id or "",
    )
    purchase.reversed += amount
    purchase.save(update_fields=["reversed"])
    return True
