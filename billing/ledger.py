"""The credit ledger: grants and purchases; the account's balance in Redis follows it."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Sum

from billing.models import LedgerEntry


def grant_credits(
    user: AbstractBaseUser, amount: Decimal, kind: str, reference: str
) -> LedgerEntry:
    """Credit `amount` USD once per `reference`; a repeated reference returns the first row."""
    if kind not in LedgerEntry.Kind.values:
        raise ValueError(f"unknown ledger kind {kind!r}")
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                user_id=user.pk, amount=Decimal(amount), kind=kind, reference=reference
            )
    except IntegrityError:
        return LedgerEntry.objects.get(reference=reference)
    from accounts.publish import publish_account_on_commit

    publish_account_on_commit(user.pk)
    return entry


def total_credits(user_id: int) -> Decimal:
    total = LedgerEntry.objects.filter(user_id=user_id).aggregate(s=Sum("amount"))["s"]
    return total or Decimal(0)


def purchased_credits(user_id: int) -> Decimal:
    rows = LedgerEntry.objects.filter(user_id=user_id, kind=LedgerEntry.Kind.PURCHASE)
    return rows.aggregate(s=Sum("amount"))["s"] or Decimal(0)
