"""The book of record for money: ledger rows, and each account's balance kept beside them.

Amounts are signed USD: money in is positive (purchase, promo), money out is negative (usage,
refund); an adjustment may go either way. The sum of an account's rows is what it can still
spend, and `Balance` holds that sum split by kind, updated in the same transaction as the rows
(billing/ledger.py is the only writer), so reading a balance is one row, never a SUM.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class LedgerEntry(models.Model):
    """One movement of money. Rows are never edited: a correction is a new row."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        PROMO = "promo", "Promotional grant"
        USAGE = "usage", "Usage charge"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Manual adjustment"

    # Every index here is paid by every metering batch (a usage row per account): the user's
    # rows are found through the (user, kind) index, and the two keys below are looked up by
    # equality only (no LIKE index: the admin's search is a substring search).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger_entries",
        db_index=False,
    )
    amount = models.DecimalField(max_digits=20, decimal_places=9)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Posting twice with the same key records the movement once (a Stripe event id, a
    # generation id, a command's run id...).
    idempotency_key = models.CharField(max_length=200)
    # What the movement is about (a usage row's first generation id, a Stripe payment).
    reference = models.CharField(max_length=200, blank=True)
    memo = models.TextField(blank=True)  # why: required for a manual adjustment
    # A usage row charges the account's new generations of one metering batch: how many.
    generations = models.PositiveIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["user", "kind"]),
                   models.Index(fields=["reference"], name="ledgerentry_reference")]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="ledgerentry_idempotency_key"),
            models.CheckConstraint(
                name="ledger_sign_follows_kind",
                condition=(
                    Q(kind__in=["purchase", "promo"], amount__gt=0)
                    | Q(kind__in=["usage", "refund"], amount__lt=0)
                    | (Q(kind="adjustment") & ~Q(amount=0))
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} for user {self.user_id}"


class Balance(models.Model):
    """An account's ledger, summed: one row per account that has any ledger row.

    credits     every credit granted or bought: purchases, promos, refunds, adjustments
    purchased   purchases less refunds (what was paid for: free-tier limits)
    promotional promos
    usage       usage charges, as a positive figure
    available   credits - usage
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="balance"
    )
    credits = models.DecimalField(max_digits=20, decimal_places=9, default=Decimal(0))
    purchased = models.DecimalField(max_digits=20, decimal_places=9, default=Decimal(0))
    promotional = models.DecimalField(max_digits=20, decimal_places=9, default=Decimal(0))
    usage = models.DecimalField(max_digits=20, decimal_places=9, default=Decimal(0))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"balance of user {self.user_id}: {self.available}"

    @property
    def available(self) -> Decimal:
        return self.credits - self.usage


# --- Payments: purchases by card, Stripe events, auto top-up, provider keys (BYOK) ------------


class Purchase(models.Model):
    """Credits bought by card: one Checkout Session, or one off-session auto top-up charge.

    Only a verified Stripe event (or an off-session charge that succeeded) credits the ledger,
    keyed by the session or payment id, so a reloaded page or a replayed event credits once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for payment"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        CHECKOUT = "checkout", "Card payment"
        AUTO_TOPUP = "auto_topup", "Auto top-up"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="purchases"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CHECKOUT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    credits = models.DecimalField(max_digits=12, decimal_places=2)
    fee = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    # The buy form's one-time token (double click, reload) or the top-up's crossing.
    idempotency_key = models.CharField(max_length=200, unique=True)
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    # Credits taken back by refunds and disputes, never more than `credits`.
    reversed = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"${self.credits} for user {self.user_id} ({self.status})"

    @property
    def number(self) -> str:
        """The receipt number people see."""
        return f"OM-{self.pk:06d}"

    @property
    def label(self) -> str:
        return "Auto top-up" if self.source == self.Source.AUTO_TOPUP else "Card purchase"


class Reversal(models.Model):
    """Credits taken back from a purchase: a refund (full or partial) or a dispute."""

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"

    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="reversals")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The ledger row's idempotency key: one row per refunded total or per dispute.
    reference = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} ${self.amount} of {self.purchase}"


class StripeEvent(models.Model):
    """Every event received, verified, as Stripe sent it; its id makes a replay a no-op."""

    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (type not handled)"
        WAITING = "waiting", "Waiting for its purchase to complete"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices)
    # What the event is about (payment intent), so a waiting refund finds its purchase later.
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class BillingProfile(models.Model):
    """A person's payment settings: saved card, auto top-up, low-balance warning."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_profile"
    )
    customer_id = models.CharField(max_length=255, blank=True)
    payment_method_id = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=32, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    auto_topup = models.BooleanField(default=False)
    topup_threshold = models.DecimalField(max_digits=12, decimal_places=2, default=5)
    topup_amount = models.DecimalField(max_digits=12, decimal_places=2, default=20)
    topup_error = models.TextField(blank=True)
    topup_error_at = models.DateTimeField(null=True, blank=True)
    low_balance_threshold = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    low_balance_email = models.BooleanField(default=False)
    # Set when the low-balance e-mail went out; cleared when the balance is back above.
    low_balance_emailed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"billing profile of user {self.user_id}"

    @property
    def has_card(self) -> bool:
        return bool(self.payment_method_id)


class ProviderKey(models.Model):
    """A person's own key for a provider (BYOK): encrypted at rest, never shown again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_keys"
    )
    provider = models.CharField(max_length=100)
    name = models.CharField(max_length=255, blank=True)  # "" is the API's null
    secret = models.TextField()  # Fernet token; empty once deleted
    label = models.CharField(max_length=64)  # masked, e.g. sk-...AbCd
    disabled = models.BooleanField(default=False)
    is_fallback = models.BooleanField(default=False)
    allowed_models = models.JSONField(null=True, blank=True)
    allowed_api_key_hashes = models.JSONField(null=True, blank=True)
    allowed_user_ids = models.JSONField(null=True, blank=True)
    sort_order = models.IntegerField(default=0)
    # Set when the provider rejected the key; traffic then falls back to shared capacity.
    rejected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sort_order", "created_at"]
        indexes = [models.Index(fields=["user", "provider"])]

    def __str__(self) -> str:
        return f"{self.provider} key {self.label} of user {self.user_id}"
