"""The catalog as the API and the pages read it: built once from the database, kept in process
and rebuilt when the published stamp in Redis changes (every catalog change publishes).

Every request of /api/v1/models, /models, a model page or a provider page then costs one Redis
GET and no SQL; filtering a few thousand entries in Python takes well under a millisecond.
"""

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from redis.exceptions import RedisError

from marketplace.models import Author, Endpoint, EndpointStatus, Model, Provider
from marketplace.pricing import api_pricing, default_order_key
from marketplace.publish import current_stamp, publish_catalog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndpointEntry:
    pk: int
    tag: str
    provider_slug: str
    provider_name: str  # wire name, e.g. "Google"
    provider_display: str  # UI label, e.g. "Google Vertex"
    variant: str
    service_tier: str
    quantization: str
    context_length: int
    max_completion_tokens: int | None
    max_prompt_tokens: int | None
    prompt: Decimal
    completion: Decimal
    request: Decimal
    image: Decimal
    input_cache_read: Decimal
    data_policy: dict[str, Any]
    supported_parameters: tuple[str, ...]
    api: dict[str, Any]  # PublicEndpoint without the live stats
    simulated: bool = False  # no base_url: served by the local simulator (when it is enabled)

    @property
    def is_standard(self) -> bool:
        return not self.variant and not self.service_tier


@dataclass(frozen=True)
class ModelEntry:
    """One row of /models: a model, or its `:free` variant."""

    id: str
    base_id: str
    name: str
    author: str
    author_name: str
    description: str
    created: int
    context_length: int
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    supported_parameters: frozenset[str]
    tokenizer: str
    prompt: Decimal  # USD per token, of the endpoint a default request sees first
    completion: Decimal
    provider_slugs: frozenset[str]
    provider_names: frozenset[str]  # lower-cased wire and display names
    endpoint_count: int
    is_variant_free: bool
    zdr: bool  # at least one endpoint neither trains on nor retains prompts
    search_text: str
    api: dict[str, Any]
    api_json: bytes

    @property
    def is_free(self) -> bool:
        return not self.prompt and not self.completion

    @property
    def url(self) -> str:
        return f"/{self.base_id}"


@dataclass
class Catalog:
    stamp: str | None
    entries: list[ModelEntry]  # default order: newest first
    by_id: dict[str, ModelEntry]
    endpoints: dict[str, list[EndpointEntry]]  # base model id -> enabled endpoints, cheapest first
    providers: list[Provider]
    authors: list[Author]
    provider_models: dict[str, list[ModelEntry]]  # provider slug -> base entries it serves
    models_body: bytes = b""  # /api/v1/models with no query
    models_etag: str = ""
    providers_body: bytes = b""
    _endpoint_bodies: dict[str, Any] = field(default_factory=dict)

    def endpoints_for(self, model_id: str) -> list[EndpointEntry]:
        """Endpoints behind a /models id: `x:free` only has the free ones."""
        base, _, variant = model_id.partition(":")
        rows = self.endpoints.get(base, [])
        if variant:
            return [e for e in rows if e.variant == variant]
        return rows


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _endpoint_entry(model: Model, endpoint: Endpoint, provider: Provider) -> EndpointEntry:
    api = {
        "name": f"{provider.name} | {model.model_id}",
        "model_id": model.model_id,
        "model_name": model.name,
        "provider_name": provider.name,
        "tag": endpoint.tag,
        "context_length": endpoint.context_length,
        "max_completion_tokens": endpoint.max_completion_tokens,
        "max_prompt_tokens": endpoint.max_prompt_tokens,
        "pricing": api_pricing(endpoint),
        "quantization": endpoint.quantization or None,
        "status": 0,
        "supported_parameters": endpoint.supported_parameters,
        "supports_implicit_caching": bool(endpoint.price_input_cache_read),
        # Fields the openrouter SDK (1.3.x) requires beyond the reference snapshot.
        "service_tier": endpoint.service_tier or None,
        "native_tools": {},
        "supports_diarization": False,
        "supports_tool_choice": dict.fromkeys(
            ("auto", "function", "none", "required"),
            "tool_choice" in endpoint.supported_parameters,
        ),
    }
    return EndpointEntry(
        pk=endpoint.pk,
        tag=endpoint.tag,
        provider_slug=provider.slug,
        provider_name=provider.name,
        provider_display=provider.display_name,
        variant=endpoint.variant,
        service_tier=endpoint.service_tier,
        quantization=endpoint.quantization,
        context_length=endpoint.context_length,
        max_completion_tokens=endpoint.max_completion_tokens,
        max_prompt_tokens=endpoint.max_prompt_tokens,
        prompt=endpoint.price_prompt,
        completion=endpoint.price_completion,
        request=endpoint.price_request,
        image=endpoint.price_image,
        input_cache_read=endpoint.price_input_cache_read,
        data_policy=endpoint.data_policy,
        supported_parameters=tuple(endpoint.supported_parameters),
        api=api,
        simulated=not provider.base_url,
    )


def _model_entry(model: Model, author: Author, rows: list[EndpointEntry],
                 *, free: bool) -> ModelEntry:
    top = rows[0]
    model_id = f"{model.model_id}:free" if free else model.model_id
    if free:
        allowed = {p for e in rows for p in e.supported_parameters}
        params = [p for p in model.supported_parameters if p in allowed]
        params += sorted(allowed - set(params))
        context = max(e.context_length for e in rows)
    else:
        params = list(model.supported_parameters)
        context = model.context_length
    architecture: dict[str, Any] = {
        "modality": "+".join(model.input_modalities) + "->" + "+".join(model.output_modalities),
        "input_modalities": model.input_modalities,
        "output_modalities": model.output_modalities,
        "instruct_type": model.instruct_type or None,
    }
    if model.tokenizer:
        architecture["tokenizer"] = model.tokenizer
    created = int(model.created.timestamp())
    api = {
        "id": model_id,
        "canonical_slug": model.model_id,
        "hugging_face_id": model.hugging_face_id or None,
        "name": f"{model.name} (free)" if free else model.name,
        "created": created,
        "description": model.description,
        "context_length": context,
        "architecture": architecture,
        "pricing": top.api["pricing"],
        "top_provider": {
            "context_length": top.context_length,
            "max_completion_tokens": top.max_completion_tokens,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": params,
        "default_parameters": None,
        "supported_voices": None,
        "knowledge_cutoff": None,
        "expiration_date": None,
        "links": {"details": f"/api/v1/models/{model_id}/endpoints"},
    }
    names = {e.provider_name.lower() for e in rows} | {e.provider_display.lower() for e in rows}
    return ModelEntry(
        id=model_id,
        base_id=model.model_id,
        name=api["name"],
        author=author.slug,
        author_name=author.name,
        description=model.description,
        created=created,
        context_length=context,
        input_modalities=tuple(model.input_modalities),
        output_modalities=tuple(model.output_modalities),
        supported_parameters=frozenset(params),
        tokenizer=model.tokenizer,
        prompt=top.prompt,
        completion=top.completion,
        provider_slugs=frozenset(e.provider_slug for e in rows),
        provider_names=frozenset(names),
        endpoint_count=len(rows),
        is_variant_free=free,
        zdr=any(
            not e.data_policy.get("training") and not e.data_policy.get("retains_prompts")
            for e in rows
        ),
        search_text=f"{model_id} {api['name']} {author.name}".lower(),
        api=api,
        api_json=orjson.dumps(api),
    )


def build_catalog(stamp: str | None) -> Catalog:
    """Everything the read side needs, in four queries whatever the catalog size."""
    providers = list(Provider.objects.filter(enabled=True).order_by("display_name"))
    by_provider = {p.pk: p for p in providers}
    authors = list(Author.objects.order_by("name"))
    by_author = {a.pk: a for a in authors}
    # file_values is the loader's record, never shown, and would double the decode time.
    models = list(
        Model.objects.filter(enabled=True).order_by("-created", "model_id").defer("file_values")
    )
    rows: dict[int, list[Endpoint]] = {m.pk: [] for m in models}
    for endpoint in Endpoint.objects.filter(
        status=EndpointStatus.ENABLED, model__enabled=True, provider_id__in=by_provider
    ).defer("file_values"):
        endpoint.provider = by_provider[endpoint.provider_id]
        rows[endpoint.model_id].append(endpoint)

    entries: list[ModelEntry] = []
    endpoints: dict[str, list[EndpointEntry]] = {}
    provider_models: dict[str, list[ModelEntry]] = {p.slug: [] for p in providers}
    for model in models:
        ordered = sorted(rows[model.pk], key=default_order_key)
        eps = [_endpoint_entry(model, e, by_provider[e.provider_id]) for e in ordered]
        endpoints[model.model_id] = eps
        author = by_author[model.author_id]
        standard = [e for e in eps if e.is_standard]
        if standard:
            entry = _model_entry(model, author, standard, free=False)
            entries.append(entry)
            for slug in sorted({e.provider_slug for e in eps}):
                provider_models[slug].append(entry)
        free = [e for e in eps if e.variant == "free"]
        if free:
            entries.append(_model_entry(model, author, free, free=True))

    # Virtual models (mixtures of agents, routers): their composition, no endpoints of their own.
    from presets.virtual import virtual_entries

    entries.extend(virtual_entries({e.id: e for e in entries}))
    entries.sort(key=lambda e: -e.created)  # stable: free variants stay after their model
    catalog = Catalog(
        stamp=stamp,
        entries=entries,
        by_id={e.id: e for e in entries},
        endpoints=endpoints,
        providers=providers,
        authors=[a for a in authors if any(e.author == a.slug for e in entries)],
        provider_models=provider_models,
    )
    text_entries = [e for e in entries if "text" in e.output_modalities]
    catalog.models_body = models_json(text_entries, len(text_entries), None)
    catalog.models_etag = etag_of(catalog.models_body)
    catalog.providers_body = orjson.dumps(
        {
            "data": [
                {
                    "name": p.name,
                    "slug": p.slug,
                    "privacy_policy_url": p.privacy_policy_url or None,
                    "terms_of_service_url": p.terms_of_service_url or None,
                    "status_page_url": p.status_page_url or None,
                    "headquarters": p.headquarters or None,
                    "datacenters": None,
                }
                for p in sorted(providers, key=lambda p: p.slug)
            ]
        }
    )
    return catalog


def models_json(entries: list[ModelEntry], total: int, next_link: str | None) -> bytes:
    """The /models body from pre-serialised entries (joining bytes beats re-encoding);
    `total` counts every match, `entries` is the requested page."""
    return (
        b'{"data":['
        + b",".join(e.api_json for e in entries)
        + b'],"total_count":'
        + str(total).encode()
        + b',"links":{"next":'
        + orjson.dumps(next_link)
        + b"}}"
    )


_cache: Catalog | None = None
_lock = threading.Lock()


def get_catalog() -> Catalog:
    """The current catalog, rebuilt only when a publish happened since the last build."""
    global _cache
    try:
        stamp = current_stamp()
        if stamp is None:  # fresh Redis: publish so the gateway and the caches agree
            publish_catalog()
            stamp = current_stamp()
    except RedisError:
        log.warning("Redis unavailable: building the catalog without cache", exc_info=True)
        return build_catalog(None)
    cached = _cache
    if cached is not None and cached.stamp == stamp:
        return cached
    with _lock:
        if _cache is None or _cache.stamp != stamp:
            _cache = build_catalog(stamp)
        return _cache


def forget_catalog() -> None:
    """Drop the in-process copy: the next read rebuilds it. For tests, whose database rolls
    back under a Redis stamp that stays the same."""
    global _cache
    with _lock:
        _cache = None
