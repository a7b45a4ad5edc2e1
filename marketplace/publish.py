"""Publish the catalog snapshot to Redis for the gateway (contract: docs/gateway-state.md).

`publish_catalog()` is safe to call any time: it reads the committed catalog under a Redis lock
and writes `gw:catalog` (version and data together) in one atomic script, so versions only go
up and the last writer always read the latest committed state. Catalog changes call
`schedule_publish()`, which queues exactly one publish per transaction, after commit.
"""

import logging
import uuid
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from redis.exceptions import LockNotOwnedError

from config import gateway_state
from config.redis import get_redis
from marketplace.models import Endpoint, EndpointStatus, Model, Provider
from marketplace.pricing import default_order_key, price_str

log = logging.getLogger(__name__)

CATALOG_KEY = gateway_state.CATALOG
SEQ_KEY = gateway_state.CATALOG_SEQ
# Changes on every publish; the web side's in-process caches compare against it.
# In the catalog's slot (gateway_state.CATALOG_SEQ): the publish script writes all three.
STAMP_KEY = "web:{gw:catalog}:stamp"
LOCK_KEY = "web:catalog:publish-lock"

# INCR the sequence and write version + data with one HSET, atomically. The snapshot's own
# "version" field is spliced in front of the rest of the JSON object.
_PUBLISH_SCRIPT = """
local version = redis.call('INCR', KEYS[2])
local data = '{"version":' .. version .. ',' .. string.sub(ARGV[1], 2)
redis.call('HSET', KEYS[1], 'version', version, 'data', data)
redis.call('SET', KEYS[3], version .. ':' .. ARGV[2])
return version
"""


def upstream_base_url(provider: Provider, api_format: str) -> str:
    if provider.base_url:
        return provider.base_url
    root = "v1beta" if api_format == "gemini" else "v1"
    return f"{settings.SIMULATOR_URL.rstrip('/')}/{provider.slug}/{root}"


def _endpoint(endpoint: Endpoint) -> dict[str, Any]:
    provider = endpoint.provider
    api_format = endpoint.effective_api_format
    pricing: dict[str, Any] = {
        "prompt": price_str(endpoint.price_prompt),
        "completion": price_str(endpoint.price_completion),
        "request": price_str(endpoint.price_request),
        "image": price_str(endpoint.price_image),
        "image_output": price_str(endpoint.price_image_output),
        "input_cache_read": price_str(endpoint.price_input_cache_read),
        "input_cache_write": price_str(endpoint.price_input_cache_write),
        "overrides": endpoint.pricing_overrides,
    }
    return {
        "id": endpoint.pk,
        "provider": provider.slug,
        "tag": endpoint.tag,
        "provider_name": provider.name,
        "api_format": api_format,
        "base_url": upstream_base_url(provider, api_format),
        "api_key_env": provider.api_key_env or None,
        "upstream_model": endpoint.provider_model_id or endpoint.model.slug,
        "variant": endpoint.variant or None,
        "service_tier": endpoint.service_tier or None,
        "quantization": endpoint.quantization or None,
        "status": endpoint.status,
        "context_length": endpoint.context_length,
        "max_completion_tokens": endpoint.max_completion_tokens,
        "max_prompt_tokens": endpoint.max_prompt_tokens,
        "pricing": pricing,
        "supported_parameters": endpoint.supported_parameters,
        "data_policy": endpoint.data_policy,
        "can_abort": provider.can_abort,
    }


def build_snapshot() -> dict[str, Any]:
    """Enabled providers and models, each model with its enabled endpoints (3 queries)."""
    providers = {p.pk: p for p in Provider.objects.filter(enabled=True)}
    if not settings.SIMULATOR_ENABLED:
        # A provider without its own base_url exists only in the simulator: not routable.
        providers = {pk: p for pk, p in providers.items() if p.base_url}
    # file_values is the loader's record, not published, and would double the decode time.
    models = list(Model.objects.filter(enabled=True).order_by("model_id").defer("file_values"))
    by_model: dict[int, list[Endpoint]] = {m.pk: [] for m in models}
    endpoints = Endpoint.objects.filter(
        status=EndpointStatus.ENABLED, model__enabled=True, provider_id__in=providers
    ).defer("file_values")
    for endpoint in endpoints:
        endpoint.provider = providers[endpoint.provider_id]
        by_model[endpoint.model_id].append(endpoint)
    snapshot_models = {}
    for model in models:
        rows = sorted(by_model[model.pk], key=default_order_key)
        for endpoint in rows:
            endpoint.model = model
        snapshot_models[model.model_id] = {
            "id": model.model_id,
            "name": model.name,
            "context_length": model.context_length,
            "input_modalities": model.input_modalities,
            "output_modalities": model.output_modalities,
            "supported_parameters": model.supported_parameters,
            "endpoints": [_endpoint(e) for e in rows],
        }
    return {
        "providers": {
            p.slug: {
                "slug": p.slug,
                "name": p.name,
                "display_name": p.display_name,
                "can_abort": p.can_abort,
            }
            for p in sorted(providers.values(), key=lambda p: p.slug)
        },
        "models": snapshot_models,
    }


def publish_catalog() -> int:
    """Write the current catalog to `gw:catalog`; returns the new version."""
    redis = get_redis()
    lock = redis.lock(LOCK_KEY, timeout=60, blocking_timeout=60)
    lock.acquire()
    try:
        # Read inside the lock: the last publisher to get it sees every committed change.
        body = orjson.dumps(build_snapshot())
        version = int(
            redis.eval(_PUBLISH_SCRIPT, 3, CATALOG_KEY, SEQ_KEY, STAMP_KEY, body, uuid.uuid4().hex)
        )
    finally:
        try:
            lock.release()
        except LockNotOwnedError:  # expired or wiped meanwhile: the snapshot is written anyway
            log.warning("catalog publish lock expired before release")
    log.info("catalog published: version %s, %d bytes", version, len(body))
    return version


def current_stamp() -> str | None:
    """Changes on every publish; None when nothing was ever published to this Redis."""
    stamp = get_redis().get(STAMP_KEY)
    if not stamp:
        return None
    return stamp.decode() if isinstance(stamp, bytes) else str(stamp)


def ensure_published() -> None:
    """Publish unless this Redis already holds a catalog (e.g. after a Redis wipe)."""
    if not get_redis().exists(CATALOG_KEY) or current_stamp() is None:
        publish_catalog()


def _publish_after_commit() -> None:
    publish_catalog()


def schedule_publish() -> None:
    """Queue one publish for after the current transaction commits (at most one per
    transaction, however many rows changed; immediately when not in a transaction)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        func is _publish_after_commit for _sids, func, _robust in connection.run_on_commit
    ):
        return
    # robust: a Redis hiccup must not turn a committed admin save into an error page.
    transaction.on_commit(_publish_after_commit, robust=True)


def publish_state() -> str:
    """Hook of `manage.py publish_state` (each app's publish module may define one)."""
    return f"catalog published as version {publish_catalog()}"
