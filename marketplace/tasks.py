"""Periodic catalog jobs (config/beat.py)."""

from celery import shared_task

from marketplace import sightings


@shared_task(name="marketplace.collect_sightings", ignore_result=True)
def collect_sightings() -> int:
    return len(sightings.collect())


@shared_task(name="marketplace.run_probes", ignore_result=True)
def run_probes() -> int:
    """Quality probes of every published endpoint; returns how many fail them."""
    from marketplace import probes

    return sum(1 for r in probes.run_all().values() if not r["ok"])
