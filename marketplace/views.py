"""Catalog pages. They read the in-process catalog (see catalog.py), so they run no SQL."""

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from marketplace import probes, stats
from marketplace.browse import SORTS, FilterError, Filters, parse_filters, select
from marketplace.catalog import Catalog, EndpointEntry, ModelEntry, get_catalog
from rankings import leaderboards

PAGE_SIZE = 24
MODALITIES = ["text", "image", "file", "audio", "video"]
# Shown first in the browser's parameter filter: what developers filter on most.
KEY_PARAMETERS = [
    "tools",
    "structured_outputs",
    "response_format",
    "reasoning",
    "web_search_options",
    "logprobs",
    "seed",
]
CONTEXT_CHOICES = [(16_000, "16K"), (32_000, "32K"), (64_000, "64K"), (128_000, "128K"),
                   (200_000, "200K"), (1_000_000, "1M")]
COMPARE_MAX = 4


def _trending(catalog: Catalog, count: int) -> list[ModelEntry]:
    tokens = stats.weekly_tokens()
    base = [e for e in catalog.entries if not e.is_variant_free]
    return sorted(base, key=lambda e: (-tokens.get(e.id, 0), -e.endpoint_count, -e.created))[
        :count
    ]


def home(request: HttpRequest) -> HttpResponse:
    catalog = get_catalog()
    context = {
        "trending": _trending(catalog, 6),
        "newest": [e for e in catalog.entries if not e.is_variant_free][:6],
        "model_count": len(catalog.entries),
        "provider_count": len(catalog.providers),
    }
    ranked = leaderboards.home_context()
    # Trending from real usage only: catalog entries of the models growing fastest.
    ranked["trending_usage"] = [
        (catalog.by_id[t["model"]], t) for t in ranked["trending_usage"]
        if t["model"] in catalog.by_id
    ]
    context.update(ranked)
    return render(request, "marketplace/home.html", context)


def _parameters(catalog: Catalog) -> list[str]:
    present = {p for e in catalog.entries for p in e.supported_parameters}
    return [p for p in KEY_PARAMETERS if p in present] + sorted(present - set(KEY_PARAMETERS))


def models_page(request: HttpRequest) -> HttpResponse:
    catalog = get_catalog()
    error = ""
    try:
        # Chat models by default, as /api/v1/models: embedding models have their own list.
        filters = parse_filters(request.GET, default_output="text")
    except FilterError as exc:
        error, filters = str(exc), Filters(output_modalities=["text"])
    found = select(catalog.entries, filters)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "filters": filters,
        "error": error,
        "page": page,
        "total": len(found),
        "query": query.urlencode(),
        "sorts": SORTS,
        "modalities": MODALITIES,
        "parameters": _parameters(catalog),
        "providers": catalog.providers,
        "authors": catalog.authors,
        "context_choices": CONTEXT_CHOICES,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "marketplace/_model_results.html", context)
    return render(request, "marketplace/models.html", context)


def _provider_rows(rows: list[EndpointEntry]) -> list[dict[str, Any]]:
    live = stats.endpoint_stats(e.pk for e in rows)
    return [{"endpoint": e, "stats": live[e.pk]} for e in rows]


def _endpoint_history(rows: list[EndpointEntry]) -> list[dict[str, Any]]:
    """Per endpoint with traffic, its daily uptime and latency for the model page's chart."""
    history = stats.daily_history(e.pk for e in rows)
    return [{"tag": e.tag, "days": history[e.pk]} for e in rows if history[e.pk]]


def model_page(request: HttpRequest, author: str, slug: str) -> HttpResponse:
    base_slug, _, variant = slug.partition(":")
    catalog = get_catalog()
    model_id = f"{author}/{base_slug}"
    entry = catalog.by_id.get(model_id) or catalog.by_id.get(f"{model_id}:free")
    if entry is None:
        raise Http404(f"No model {model_id}")
    rows = catalog.endpoints_for(f"{model_id}:{variant}" if variant else model_id)
    free = catalog.by_id.get(f"{model_id}:free")
    context = {
        "model": entry,
        "free": free,
        "variant": variant,
        "rows": _provider_rows(rows),
        "endpoint_history": _endpoint_history(rows),
        "api_base": settings.SITE_URL.rstrip("/") + "/api/v1",
        "call_id": f"{model_id}:{variant}" if variant else entry.id,
        "simulator_enabled": settings.SIMULATOR_ENABLED,
    }
    context.update(leaderboards.model_context(model_id))
    return render(request, "marketplace/model.html", context)


def providers_page(request: HttpRequest) -> HttpResponse:
    catalog = get_catalog()
    rows = [(p, len(catalog.provider_models.get(p.slug, []))) for p in catalog.providers]
    return render(request, "marketplace/providers.html", {"rows": rows})


def provider_page(request: HttpRequest, slug: str) -> HttpResponse:
    catalog = get_catalog()
    provider = next((p for p in catalog.providers if p.slug == slug), None)
    if provider is None:
        raise Http404(f"No provider {slug}")
    offers = [
        (entry, endpoint)
        for entry in catalog.provider_models.get(slug, [])
        for endpoint in catalog.endpoints[entry.base_id]
        if endpoint.provider_slug == slug
    ]
    live = stats.endpoint_stats(e.pk for _, e in offers)
    quality = probes.results([e.pk for _, e in offers])
    context = {
        "provider": provider,
        "offers": [(m, e, live[e.pk], quality.get(e.pk)) for m, e in offers],
        "status": stats.provider_status(live.values()),
        "screened_out": sum(1 for q in quality.values() if not q["ok"]),
    }
    return render(request, "marketplace/provider.html", context)


def compare_page(request: HttpRequest) -> HttpResponse:
    catalog = get_catalog()
    wanted: list[str] = []
    for raw in request.GET.getlist("models"):
        wanted.extend(m.strip() for m in raw.split(",") if m.strip())
    chosen = [catalog.by_id[m] for m in dict.fromkeys(wanted) if m in catalog.by_id]
    if len(chosen) > COMPARE_MAX:
        chosen = chosen[:COMPARE_MAX]
    if len(chosen) != len(wanted) and chosen:
        # Normalise the URL (unknown ids dropped, at most four) so it stays shareable.
        return redirect("/compare?" + "&".join(f"models={e.id}" for e in chosen))
    parameters = sorted({p for e in chosen for p in e.supported_parameters})
    context = {
        "chosen": chosen,
        "slots": [chosen[i].id if i < len(chosen) else "" for i in range(COMPARE_MAX)],
        "all_models": catalog.entries,
        "parameters": parameters,
        "unknown": [m for m in wanted if m not in catalog.by_id],
    }
    return render(request, "marketplace/compare.html", context)
