"""Periodic catalog jobs (config/beat.py)."""

from celery import shared_task

from marketplace import sightings


@shared_task(name="marketplace.collect_sightings", ignore_result=True)
def collect_sightings() -> int:
    return len(sightings.collect())
