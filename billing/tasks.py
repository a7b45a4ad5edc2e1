"""Periodic billing jobs (scheduled in config/beat.py)."""

from typing import Any

from celery import shared_task

from billing.holds import release_expired
from config.redis import get_redis


@shared_task(name="billing.release_expired_holds", ignore_result=True)
def release_expired_holds() -> int:
    """Give back the reservations of requests whose gateway died; returns how many.

    Idempotent: a hold is released by whoever removes its record first, so overlapping runs,
    retries and a settle arriving late all release it once.
    """
    return release_expired(get_redis()).holds


@shared_task(
    name="billing.deliver_local_event",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def deliver_local_event(webhook_url: str, body: dict[str, Any]) -> int:
    """The local test checkout's webhook delivery, retried like Stripe retries; the endpoint
    is idempotent by event id, so a delivery that landed but timed out is harmless."""
    from billing.local_stripe import deliver

    status = deliver(webhook_url, body)
    if status >= 500:
        raise OSError(f"webhook endpoint answered {status}")
    return status


@shared_task(name="billing.auto_top_up", ignore_result=True)
def auto_top_up() -> int:
    """Charge every account whose balance fell under its auto top-up threshold (once per
    crossing, see billing/topup.py), then send the low-balance e-mails that are due; returns
    how many accounts were charged."""
    from billing.alerts import send_low_balance_emails
    from billing.topup import top_up_all

    charged = top_up_all()
    send_low_balance_emails()
    return charged


@shared_task(name="billing.auto_top_up_account", ignore_result=True)
def auto_top_up_account(user_id: int) -> None:
    from billing.topup import maybe_top_up

    maybe_top_up(user_id)


@shared_task(name="billing.mark_rejected_provider_keys", ignore_result=True)
def mark_rejected_provider_keys() -> int:
    """Provider keys the gateway found refused by their provider: marked, and unpublished."""
    from billing.byok import mark_rejected

    return mark_rejected()
