"""An account's money history as people read it: purchases, refunds, grants and adjustments
one row each, and usage as one row per UTC day (a busy day has thousands of generations)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncDate

from billing.models import LedgerEntry, Purchase


@dataclass(frozen=True)
class Row:
    when: datetime
    kind: str  # a LedgerEntry kind
    label: str
    amount: Decimal
    purchase: Purchase | None = None
    day: date | None = None  # usage rows: the day, for the link to /activity
    generations: int = 0


def rows(user_id: int) -> list[Row]:
    """Newest first."""
    entries = LedgerEntry.objects.filter(user_id=user_id).exclude(kind=LedgerEntry.Kind.USAGE)
    purchases = {
        f"stripe:{p.checkout_session_id or p.payment_intent_id}": p
        for p in Purchase.objects.filter(user_id=user_id, status=Purchase.Status.PAID)
    }
    result = [
        Row(
            when=e.created_at,
            kind=e.kind,
            label=e.memo or e.get_kind_display(),
            amount=e.amount,
            purchase=purchases.get(e.idempotency_key),
        )
        for e in entries
    ]
    days = (
        LedgerEntry.objects.filter(user_id=user_id, kind=LedgerEntry.Kind.USAGE)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(total=Sum("amount"), n=Sum("generations"))
    )
    for d in days:
        result.append(
            Row(
                when=datetime.combine(d["day"], time.max, tzinfo=UTC),
                kind=LedgerEntry.Kind.USAGE,
                label="Usage",
                amount=d["total"],
                day=d["day"],
                generations=d["n"],
            )
        )
    result.sort(key=lambda r: r.when, reverse=True)
    return result
