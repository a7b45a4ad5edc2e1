"""Catalog JSON API in OpenRouter's shapes: /models, /models/count, /model/<id>,
/models/<id>/endpoints, /providers.

Plain Django views rather than DRF: the bodies are pre-serialised bytes from the in-process
catalog, so the hot path is one Redis GET plus a dictionary lookup. Every answer carries an
ETag (hash of the body) and honours If-None-Match with 304.
"""

from collections.abc import Callable
from functools import wraps

import orjson
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from config.api_errors import error_response
from marketplace import stats
from marketplace.browse import FilterError, parse_filters, select
from marketplace.catalog import etag_of, get_catalog, models_json

CACHE_CONTROL = "public, max-age=60"
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

View = Callable[..., HttpResponseBase]


def get_only(view: View) -> View:
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD"):
            response = error_response(405, f"Method {request.method} not allowed")
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def json_bytes(request: HttpRequest, body: bytes, etag: str | None = None) -> HttpResponse:
    etag = etag or etag_of(body)
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _page_bounds(request: HttpRequest) -> tuple[int, int | None]:
    raw_offset = request.GET.get("offset", "").strip()
    raw_limit = request.GET.get("limit", "").strip()
    try:
        offset = int(raw_offset) if raw_offset else 0
        limit = int(raw_limit) if raw_limit else None
    except ValueError:
        raise FilterError("'offset' and 'limit' must be integers") from None
    if offset < 0:
        raise FilterError("'offset' must be >= 0")
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise FilterError(f"'limit' must be between 1 and {MAX_LIMIT}")
    if limit is None and raw_offset:
        limit = DEFAULT_LIMIT
    return offset, limit


@get_only
def models(request: HttpRequest) -> HttpResponseBase:
    catalog = get_catalog()
    if not request.GET:
        return json_bytes(request, catalog.models_body, catalog.models_etag)
    try:
        filters = parse_filters(request.GET, default_output="text")
        offset, limit = _page_bounds(request)
    except FilterError as exc:
        return error_response(400, str(exc), {"error_type": "invalid_request"})
    found = select(catalog.entries, filters)
    page = found[offset : offset + limit] if limit is not None else found[offset:]
    next_link = None
    if limit is not None and offset + limit < len(found):
        query = request.GET.copy()
        query["offset"] = str(offset + limit)
        query["limit"] = str(limit)
        next_link = f"/api/v1/models?{query.urlencode()}"
    return json_bytes(request, models_json(page, len(found), next_link))


@get_only
def models_count(request: HttpRequest) -> HttpResponseBase:
    catalog = get_catalog()
    try:
        filters = parse_filters(request.GET, default_output="text")
    except FilterError as exc:
        return error_response(400, str(exc), {"error_type": "invalid_request"})
    count = len(select(catalog.entries, filters))
    return json_bytes(request, orjson.dumps({"data": {"count": count}}))


def _unknown_model(model_id: str) -> HttpResponse:
    return error_response(404, f"Model {model_id!r} not found", {"error_type": "not_found"})


@get_only
def model_detail(request: HttpRequest, author: str, slug: str) -> HttpResponseBase:
    model_id = f"{author}/{slug}"
    entry = get_catalog().by_id.get(model_id)
    if entry is None:
        return _unknown_model(model_id)
    return json_bytes(request, b'{"data":' + entry.api_json + b"}")


@get_only
def model_endpoints(request: HttpRequest, author: str, slug: str) -> HttpResponseBase:
    model_id = f"{author}/{slug}"
    catalog = get_catalog()
    entry = catalog.by_id.get(model_id)
    if entry is None:
        return _unknown_model(model_id)
    rows = catalog.endpoints_for(model_id)
    live = stats.endpoint_stats(e.pk for e in rows)
    api = entry.api
    body = {
        "data": {
            "id": model_id,
            "name": api["name"],
            "created": api["created"],
            "description": api["description"],
            "architecture": {"tokenizer": None, **api["architecture"]},
            "endpoints": [{**e.api, **live[e.pk].as_api()} for e in rows],
        }
    }
    return json_bytes(request, orjson.dumps(body))


@get_only
def providers(request: HttpRequest) -> HttpResponseBase:
    return json_bytes(request, get_catalog().providers_body)
