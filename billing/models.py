"""The book of record for money: ledger rows, and each account's balance kept beside them.

Amounts are signed USD: money in is positive (purchase, promo), money out is negative (usage,
refund); an adjustment may go either way. The sum of an account's rows is what it can still
spend, and `Balance` holds that sum split by kind, updated in the same transaction as the rows
(billing/ledger.py is the only writer), so reading a balance is one row, never a SUM.
"""

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

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    amount = models.DecimalField(max_digits=20, decimal_places=9)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Posting twice with the same key records the movement once (a Stripe event id, a
    # generation id, a command's run id...).
    idempotency_key = models.CharField(max_length=200, unique=True)
    # What the movement is about (a generation id, a Stripe payment), for search.
    reference = models.CharField(max_length=200, blank=True, db_index=True)
    memo = models.TextField(blank=True)  # why: required for a manual adjustment
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["user", "kind"])]
        constraints = [
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
