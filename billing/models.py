from django.conf import settings
from django.db import models


class LedgerEntry(models.Model):
    """One movement of credits; an account's credits are the sum of its rows."""

    class Kind(models.TextChoices):
        PROMO = "promo", "Promotional"
        PURCHASE = "purchase", "Purchase"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    amount = models.DecimalField(max_digits=20, decimal_places=9)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Idempotency: granting twice with the same reference credits once.
    reference = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} for user {self.user_id}"
