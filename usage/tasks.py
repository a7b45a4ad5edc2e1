"""Periodic usage jobs (scheduled in config/beat.py); each one is idempotent."""

from celery import shared_task

from usage.content import delete_expired


@shared_task(name="usage.delete_expired_content", ignore_result=True)
def delete_expired_content() -> int:
    """Generation content past GENERATION_CONTENT_DAYS is deleted."""
    return delete_expired()
