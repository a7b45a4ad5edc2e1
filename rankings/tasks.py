"""Periodic rankings jobs (scheduled in config/beat.py); each one is idempotent."""

from celery import shared_task

from rankings import categories, favicons
from rankings.partitions import ensure_partitions
from rankings.refresh import refresh_rankings


@shared_task(name="rankings.ensure_partitions", ignore_result=True)
def create_partitions_ahead() -> int:
    """Next months' generation partitions exist before the first row arrives."""
    return ensure_partitions()


@shared_task(name="rankings.refresh", ignore_result=True)
def refresh() -> None:
    """Rollups into the snapshots the pages read."""
    refresh_rankings()


@shared_task(name="rankings.classify_prompts", ignore_result=True)
def classify_prompts() -> int:
    """Logged prompts' categories, rolled up per day, model and category."""
    return categories.run()


@shared_task(name="rankings.fetch_favicons", ignore_result=True)
def fetch_favicons() -> int:
    """Icons of apps never tried or due again, from their own sites."""
    return favicons.refresh_icons()
