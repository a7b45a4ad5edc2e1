"""Operators hear about a provider's new finish reasons and error types once.

The gateway records each (provider, kind, value) the first time it sees it in the Redis hash
`gw:sightings` (gateway/sightings.py). `collect`, run by Celery beat every minute, turns the
fields it has not stored yet into `ProviderSighting` rows (listed in the admin) and alerts the
operators once per new row: a warning log line and an e-mail to ADMINS.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from django.core.mail import mail_admins
from django.db import IntegrityError, transaction

from config.gateway_state import SIGHTINGS
from config.redis import get_redis
from marketplace.models import ProviderSighting

log = logging.getLogger(__name__)


def collect() -> list[ProviderSighting]:
    """New sightings stored and announced; idempotent (a stored sighting is skipped)."""
    raw: dict[Any, Any] = get_redis().hgetall(SIGHTINGS)
    known = {(s.provider_slug, s.kind, s.value)
             for s in ProviderSighting.objects.only("provider_slug", "kind", "value")}
    created = []
    for field, data in raw.items():
        provider, kind, value = field.decode().split("|", 2)
        if (provider, kind, value) in known or kind not in ProviderSighting.Kind.values:
            continue
        first = orjson.loads(data)
        try:
            with transaction.atomic():
                row = ProviderSighting.objects.create(
                    provider_slug=provider, kind=kind, value=value,
                    example_model=str(first.get("model") or "")[:200],
                    first_seen=datetime.fromtimestamp(float(first.get("at") or 0), UTC))
        except IntegrityError:  # another worker stored it first
            continue
        created.append(row)
    for row in created:
        when = row.first_seen.strftime("%Y-%m-%d %H:%M:%S")
        message = (f"Provider {row.provider_slug} returned a new {row.get_kind_display()} "
                   f"{row.value!r} (first on {row.example_model} at {when} UTC)")
        log.warning("new provider behaviour: %s", message)
        mail_admins(f"New {row.get_kind_display()} from {row.provider_slug}", message,
                    fail_silently=True)
    return created
