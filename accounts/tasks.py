"""Periodic publishing jobs (scheduled in config/beat.py)."""

from celery import shared_task
from django.core.management import call_command

from accounts.publish import drain_outbox


@shared_task(name="accounts.drain_publish_outbox", ignore_result=True)
def drain_publish_outbox() -> int:
    """Publish key and account changes committed while Redis was down; returns how many.

    A Redis still down raises, and the rows wait for the next run (every few seconds).
    """
    return drain_outbox()


@shared_task(name="accounts.republish_state", ignore_result=True)
def republish_state() -> None:
    """Everything the gateway reads, republished: catches any change no signal announced
    (a QuerySet.update(), a row edited in SQL)."""
    call_command("publish_state")


@shared_task(name="accounts.reconcile_balances", ignore_result=True)
def reconcile_balances() -> int:
    """Repair Redis from the ledger (`reconcile_balances --fix`); returns what differed."""
    from accounts.reconcile import fix

    first, _last = fix()
    return len(first.drifts)
