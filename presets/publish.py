"""Publish each account's active presets to Redis for the gateway (docs/gateway-state.md).

One hash per account, `gw:{s<k>}:presets:<user id>` (k = user id % 16, the account's shard
tag), field = slug, value = the designated version as JSON. The whole hash is rewritten from
Postgres after commit, under an advisory lock per account, so Redis always ends up with what
Postgres holds.
"""

from collections.abc import Iterable
from typing import Any

import orjson
from django.db import connection, transaction

from config import gateway_state
from config.redis import get_redis
from presets.models import Preset, PresetStatus


def presets_key(user_id: int) -> str:
    return gateway_state.presets(user_id)


def record(preset: Preset) -> dict[str, Any]:
    version = preset.designated_version
    assert version is not None
    return {"id": str(preset.id), "slug": preset.slug, "version": version.version,
            "version_id": str(version.id), "system_prompt": version.system_prompt,
            "config": version.config}


def sync_presets(user_id: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))",
                       [presets_key(user_id)])
        presets = Preset.objects.filter(
            user_id=user_id, status=PresetStatus.ACTIVE, designated_version__isnull=False
        ).select_related("designated_version")
        mapping = {p.slug: orjson.dumps(record(p)) for p in presets}
        pipe = get_redis().pipeline(transaction=True)
        pipe.delete(presets_key(user_id))
        if mapping:
            pipe.hset(presets_key(user_id), mapping=mapping)  # type: ignore[arg-type]
        pipe.execute()


def publish_presets_on_commit(user_id: int) -> None:
    transaction.on_commit(lambda: sync_presets(user_id), robust=True)


def publish_all(user_ids: Iterable[int] | None = None) -> int:
    ids = set(user_ids) if user_ids is not None else set(
        Preset.objects.values_list("user_id", flat=True).distinct()
    )
    for user_id in ids:
        sync_presets(user_id)
    return len(ids)


def publish_state() -> str:
    """Hook of `manage.py publish_state`."""
    return f"presets of {publish_all()} accounts published"
