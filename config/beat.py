"""Every periodic job, in one place."""

from typing import Any

SCHEDULE: dict[str, dict[str, Any]] = {
    # Reservations of requests whose gateway died mid-request (billing/holds.py).
    "release-expired-holds": {"task": "billing.release_expired_holds", "schedule": 60.0},
    # Key and account changes committed while Redis was down (accounts/publish.py outbox).
    "drain-publish-outbox": {"task": "accounts.drain_publish_outbox", "schedule": 3.0},
    # Everything the gateway reads, republished: catches changes no signal announced.
    "republish-state": {"task": "accounts.republish_state", "schedule": 300.0},
    # Redis balances and key usage against the ledger, repaired (accounts/reconcile.py).
    "reconcile-balances": {"task": "accounts.reconcile_balances", "schedule": 180.0},
    # Auto top-up of balances under their threshold, once per crossing (billing/topup.py).
    "auto-top-up": {"task": "billing.auto_top_up", "schedule": 60.0},
    # Provider keys (BYOK) their provider refused, as reported by the gateway (billing/byok.py).
    "mark-rejected-provider-keys": {
        "task": "billing.mark_rejected_provider_keys",
        "schedule": 30.0,
    },
    # Generation partitions for the months ahead (rankings/partitions.py).
    "rankings-partitions": {"task": "rankings.ensure_partitions", "schedule": 6 * 3600.0},
    # Hourly rollups into the leaderboards, charts and panels (rankings/refresh.py).
    "rankings-refresh": {"task": "rankings.refresh", "schedule": 300.0},
    # Categories of logged prompts, rolled up for rankings (rankings/categories.py).
    "rankings-classify-prompts": {"task": "rankings.classify_prompts", "schedule": 300.0},
    # App favicons from their sites, for the showcase (rankings/favicons.py).
    "rankings-fetch-favicons": {"task": "rankings.fetch_favicons", "schedule": 600.0},
    # Generation content past GENERATION_CONTENT_DAYS, deleted (usage/content.py).
    "usage-delete-expired-content": {"task": "usage.delete_expired_content", "schedule": 3600.0},
    # Finish reasons and errors a provider returned for the first time (marketplace/sightings.py).
    "collect-sightings": {"task": "marketplace.collect_sightings", "schedule": 60.0},
    # Quality probes of every endpoint; failing ones leave the routing lane (marketplace/probes.py).
    "quality-probes": {"task": "marketplace.run_probes", "schedule": 600.0},
}
