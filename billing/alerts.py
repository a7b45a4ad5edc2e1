"""The low-balance warning: a banner on every page under the threshold the person chose, and
an optional e-mail, sent once each time the balance falls under it."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest
from django.utils import timezone

from billing import ledger
from billing.models import BillingProfile


def low_balance(request: HttpRequest) -> dict[str, Any]:
    """Context processor: `low_balance` is the balance when it is under the threshold."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    threshold = (
        BillingProfile.objects.filter(user_id=user.pk)
        .values_list("low_balance_threshold", flat=True)
        .first()
    )
    if threshold is None:
        return {}
    available = ledger.balance(user.pk).available
    return {"low_balance": available} if available < threshold else {}


def send_low_balance_emails() -> int:
    """Beat: e-mail each account that fell under its threshold since the last e-mail."""
    sent = 0
    profiles = BillingProfile.objects.filter(
        low_balance_email=True, low_balance_threshold__isnull=False
    ).select_related("user")
    for profile in profiles:
        available = ledger.balance(profile.user_id).available
        threshold: Decimal = profile.low_balance_threshold  # type: ignore[assignment]
        if available >= threshold:
            if profile.low_balance_emailed_at:
                profile.low_balance_emailed_at = None  # armed again for the next fall
                profile.save(update_fields=["low_balance_emailed_at"])
            continue
        if profile.low_balance_emailed_at or not profile.user.email:
            continue
        send_mail(
            f"[{settings.SITE_NAME}] Your balance is low",
            f"Your balance is ${available:,.2f}, under the ${threshold:,.2f} you asked us to "
            f"watch. Add credits at {settings.SITE_URL}/credits",
            None,
            [profile.user.email],
            fail_silently=True,
        )
        profile.low_balance_emailed_at = timezone.now()
        profile.save(update_fields=["low_balance_emailed_at"])
        sent += 1
    return sent
