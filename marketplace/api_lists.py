"""More catalog lists in OpenRouter's shapes: /embeddings/models, /models/user (the caller's
account preferences applied) and /endpoints/zdr (endpoints that neither train on nor keep
prompts)."""

from collections.abc import Callable

import orjson
from django.http import HttpRequest, HttpResponseBase
from rest_framework.exceptions import AuthenticationFailed

from accounts.authentication import ApiKeyAuthentication
from accounts.models import PrivacySettings
from config.api_errors import error_response
from marketplace import stats
from marketplace.api import _page_bounds, get_only, json_bytes
from marketplace.browse import FilterError, parse_filters, select
from marketplace.catalog import Catalog, ModelEntry, get_catalog, models_json


def _listing(request: HttpRequest, path: str, default_output: str,
             usable: Callable[[Catalog, ModelEntry], bool] | None = None) -> HttpResponseBase:
    try:
        filters = parse_filters(request.GET, default_output=default_output)
        offset, limit = _page_bounds(request)
    except FilterError as exc:
        return error_response(400, str(exc), {"error_type": "invalid_request"})
    catalog = get_catalog()
    found = select(catalog.entries, filters)
    if usable is not None:
        found = [e for e in found if usable(catalog, e)]
    page = found[offset : offset + limit] if limit is not None else found[offset:]
    next_link = None
    if limit is not None and offset + limit < len(found):
        query = request.GET.copy()
        query["offset"], query["limit"] = str(offset + limit), str(limit)
        next_link = f"{path}?{query.urlencode()}"
    return json_bytes(request, models_json(page, len(found), next_link))


@get_only
def embedding_models(request: HttpRequest) -> HttpResponseBase:
    """Models whose output is embeddings; the same filters and paging as /models."""
    return _listing(request, "/api/v1/embeddings/models", "embeddings")


def _split(value: str) -> set[str]:
    return {s.strip().lower() for s in value.split(",") if s.strip()}


@get_only
def user_models(request: HttpRequest) -> HttpResponseBase:
    """/models as the caller's key sees it: allowed and ignored providers, and no endpoint
    that may train on prompts when the account denies training."""
    if not request.headers.get("Authorization"):
        return error_response(401, "An API key is required: Authorization: Bearer <key>",
                              {"error_type": "authentication"})
    try:
        found = ApiKeyAuthentication().authenticate(request)  # type: ignore[arg-type]
    except AuthenticationFailed as exc:
        return error_response(401, str(exc.detail), {"error_type": "authentication"})
    assert found is not None
    user, _ = found
    privacy = PrivacySettings.objects.filter(user=user).first()
    allow = _split(privacy.allow_providers) if privacy else set()
    ignore = _split(privacy.ignore_providers) if privacy else set()
    deny_training = bool(privacy and privacy.deny_training)

    def usable(catalog: Catalog, entry: ModelEntry) -> bool:
        endpoints = catalog.endpoints_for(entry.id)
        if not endpoints:
            return True  # a router model: it routes to whatever the account may use
        for endpoint in endpoints:
            slug = endpoint.provider_slug.lower()
            if (allow and slug not in allow) or slug in ignore:
                continue
            if deny_training and endpoint.data_policy.get("training"):
                continue
            return True
        return False

    return _listing(request, "/api/v1/models/user", "text", usable=usable)


@get_only
def zdr_endpoints(request: HttpRequest) -> HttpResponseBase:
    catalog = get_catalog()
    rows = [e for entries in catalog.endpoints.values() for e in entries
            if not e.data_policy.get("training") and not e.data_policy.get("retains_prompts")]
    live = stats.endpoint_stats(e.pk for e in rows)
    body = {"data": [{**e.api, **live[e.pk].as_api()} for e in rows]}
    return json_bytes(request, orjson.dumps(body))
