"""The catalog snapshot published by the Django side at `gw:catalog` (docs/gateway-state.md).

Held in process; `HGET gw:catalog version` is checked at most once a second and `data` is
reloaded only when the version changed.
"""

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from gateway import keys
from gateway.errors import GatewayError
from gateway.redis_client import Redis

if TYPE_CHECKING:
    from gateway.byok import ProviderKey

log = logging.getLogger(__name__)

CATALOG_KEY = keys.CATALOG
ZERO = Decimal(0)


def _dec(value: Any) -> Decimal:
    if value in (None, ""):
        return ZERO
    return Decimal(str(value))


@dataclass(frozen=True)
class PriceOverride:
    min_prompt_tokens: int
    prices: dict[str, Decimal]


@dataclass(frozen=True)
class Pricing:
    prompt: Decimal = ZERO
    completion: Decimal = ZERO
    request: Decimal = ZERO
    image: Decimal = ZERO
    # Per image the model draws (reference §8.1 `image_output`).
    image_output: Decimal = ZERO
    input_cache_read: Decimal = ZERO
    input_cache_write: Decimal = ZERO
    overrides: tuple[PriceOverride, ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> "Pricing":
        overrides = []
        for item in raw.get("overrides") or ():
            prices = {
                k: _dec(v) for k, v in item.items() if k in _PRICE_FIELDS and v not in (None, "")
            }
            overrides.append(PriceOverride(int(item.get("min_prompt_tokens") or 0), prices))
        overrides.sort(key=lambda o: o.min_prompt_tokens)
        return cls(
            **{name: _dec(raw.get(name)) for name in _PRICE_FIELDS},
            overrides=tuple(overrides),
        )

    def for_prompt(self, prompt_tokens: int) -> "Pricing":
        """The prices in force for a request of this size (the largest matching override)."""
        chosen = None
        for override in self.overrides:
            if prompt_tokens >= override.min_prompt_tokens:
                chosen = override
        if chosen is None:
            return self
        values = {name: chosen.prices.get(name, getattr(self, name)) for name in _PRICE_FIELDS}
        return Pricing(**values)

    @property
    def is_free(self) -> bool:
        return self.prompt == 0 and self.completion == 0 and self.request == 0

    @functools.cached_property
    def blended(self) -> Decimal:
        return self.prompt + self.completion

    @functools.cached_property
    def weight(self) -> float:
        """The router's default weight, 1/price² (computed once per snapshot, not per request)."""
        return 1 / float(self.blended) ** 2 if self.blended else 0.0


_PRICE_FIELDS = ("prompt", "completion", "request", "image", "image_output",
                 "input_cache_read", "input_cache_write")


@dataclass(frozen=True)
class Endpoint:
    id: int
    model_id: str
    provider: str
    provider_name: str
    tag: str
    api_format: str
    base_url: str
    api_key_env: str | None
    upstream_model: str
    variant: str | None
    service_tier: str | None
    context_length: int
    max_completion_tokens: int | None
    max_prompt_tokens: int | None
    pricing: Pricing
    supported_parameters: frozenset[str]
    may_train: bool
    can_abort: bool
    quantization: str | None = None
    retains_prompts: bool = False
    # Set on a copy of the endpoint that is called with the account's own key (gateway/byok.py).
    byok: "ProviderKey | None" = None

    @classmethod
    def parse(cls, model_id: str, raw: dict[str, Any], context_length: int) -> "Endpoint":
        policy = raw.get("data_policy") or {}
        return cls(
            id=int(raw["id"]),
            model_id=model_id,
            provider=raw["provider"],
            provider_name=raw.get("provider_name") or raw["provider"],
            tag=raw.get("tag") or raw["provider"],
            api_format=raw.get("api_format") or "openai",
            base_url=str(raw["base_url"]).rstrip("/"),
            api_key_env=raw.get("api_key_env"),
            upstream_model=raw.get("upstream_model") or model_id.split("/", 1)[-1],
            variant=raw.get("variant"),
            service_tier=raw.get("service_tier"),
            context_length=int(raw.get("context_length") or context_length or 0),
            max_completion_tokens=raw.get("max_completion_tokens"),
            max_prompt_tokens=raw.get("max_prompt_tokens"),
            pricing=Pricing.parse(raw.get("pricing") or {}),
            supported_parameters=frozenset(raw.get("supported_parameters") or ()),
            may_train=bool(policy.get("training")),
            can_abort=raw.get("can_abort") is not False,
            quantization=raw.get("quantization") or None,
            retains_prompts=bool(policy.get("retains_prompts")),
        )


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    context_length: int
    endpoints: tuple[Endpoint, ...]
    supported_parameters: frozenset[str] = field(default_factory=frozenset)
    output_modalities: frozenset[str] = frozenset({"text"})
    # `file`: the model reads PDFs itself (the file-parser plugin passes them natively).
    input_modalities: frozenset[str] = frozenset({"text"})


@dataclass
class Snapshot:
    version: int
    models: dict[str, Model]

    @classmethod
    def parse(cls, version: int, data: bytes) -> "Snapshot":
        raw = orjson.loads(data)
        models = {}
        for model_id, item in (raw.get("models") or {}).items():
            context = int(item.get("context_length") or 0)
            models[model_id] = Model(
                id=model_id,
                name=item.get("name") or model_id,
                context_length=context,
                endpoints=tuple(
                    Endpoint.parse(model_id, e, context) for e in item.get("endpoints") or ()
                ),
                supported_parameters=frozenset(item.get("supported_parameters") or ()),
                output_modalities=frozenset(item.get("output_modalities") or ("text",)),
                input_modalities=frozenset(item.get("input_modalities") or ("text",)),
            )
        return cls(version, models)

    def resolve(self, requested: str) -> tuple[Model, str | None]:
        """`author/slug[:variant]` -> the model and its variant, or a 400 naming the model."""
        model_id, _, variant = requested.partition(":")
        model = self.models.get(model_id)
        if model is None:
            raise GatewayError(
                400,
                f"{requested} is not a valid model ID. See GET /api/v1/models for the list of "
                "available models.",
                {"error_type": "invalid_request", "availability": {
                    "code": "model_not_found", "retryable": False,
                    "requested_models": [requested], "docs_url": "/api/v1/models"}},
            )
        return model, variant or None


class Catalog:
    """The current snapshot; `refresh` is cheap to call on every request."""

    def __init__(self, check_seconds: float = 1.0) -> None:
        self.snapshot = Snapshot(0, {})
        self.check_seconds = check_seconds
        self._next_check = 0.0
        self._pending: asyncio.Future[None] | None = None

    async def refresh(self, redis: Redis) -> Snapshot:
        if time.monotonic() < self._next_check:
            return self.snapshot
        # Requests arriving during a check wait for it rather than use a stale snapshot.
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._check(redis))
        pending = self._pending
        await asyncio.shield(pending)
        if self._pending is pending:
            self._pending = None
        return self.snapshot

    async def _check(self, redis: Redis) -> None:
        try:
            version = await redis.hget(CATALOG_KEY, "version")
            if version is not None and int(version) != self.snapshot.version:
                fresh, data = await redis.hmget(CATALOG_KEY, ["version", "data"])
                if fresh is not None and data is not None:
                    self.snapshot = Snapshot.parse(int(fresh), data)
        except Exception:  # keep serving the last good snapshot; Redis may come back
            log.exception("catalog refresh failed; keeping version %s", self.snapshot.version)
        self._next_check = time.monotonic() + self.check_seconds
