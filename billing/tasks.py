"""Periodic billing jobs (scheduled in config/beat.py)."""

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
