"""Every periodic job, in one place."""

from typing import Any

SCHEDULE: dict[str, dict[str, Any]] = {
    # Reservations of requests whose gateway died mid-request (billing/holds.py).
    "release-expired-holds": {"task": "billing.release_expired_holds", "schedule": 60.0},
    # Auto top-up of balances under their threshold, once per crossing (billing/topup.py).
    "auto-top-up": {"task": "billing.auto_top_up", "schedule": 60.0},
}
