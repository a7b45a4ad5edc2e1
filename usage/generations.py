"""GET /api/v1/generation?id=gen-…: the stats of one generation, for its owner's keys; for a
mixture's parent, the breakdown of its sub-generations (model, provider, tokens, cost, latency)."""

from typing import Any
from urllib.parse import urlsplit

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.permissions import HasApiKey, request_key
from config import gateway_state
from config.api_errors import ApiError
from config.redis import get_redis
from usage.metering import MalformedEvent, parse_raw
from usage.models import Generation

MAX_ID_LENGTH = Generation._meta.get_field("id").max_length or 100


def _origin(referer: str) -> str:
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _attempt(item: Any) -> Any:
    """One routing attempt of the usage event in OpenRouter's ProviderResponse shape."""
    if not isinstance(item, dict):
        return item
    endpoint_id = item.get("endpoint_id")
    attempt = {
        "provider_name": item.get("provider_name") or item.get("provider"),
        "endpoint_id": None if endpoint_id is None else str(endpoint_id),
        "id": item.get("id"),
        "latency": item.get("latency_ms", item.get("latency")),
        "is_byok": False,
    }
    if "role" in item:
        # A sub-generation of a mixture of agents (gateway/moa.py): its model, tokens and cost.
        attempt |= {k: item.get(k) for k in ("role", "layer", "model", "tokens_prompt",
                                             "tokens_completion", "cost")}
    # Only `status` is required (and nullable); the other fields are absent rather than null.
    return {"status": item.get("status")} | {k: v for k, v in attempt.items() if v is not None}


def _metered(row: Generation, listed: dict[str, Any]) -> dict[str, Any]:
    """A sub-generation as its own row says (what was charged), with its place in the mixture."""
    return {
        "id": row.id, "role": listed.get("role") or "sub-call", "layer": listed.get("layer"),
        "model": row.model, "provider": row.provider, "provider_name": row.provider_name,
        "endpoint_id": row.endpoint_id, "status": row.status, "latency_ms": row.latency_ms,
        "tokens_prompt": row.tokens_prompt, "tokens_completion": row.tokens_completion,
        "cost": f"{row.cost:.9f}",
    }


def sub_generations(generation: Generation) -> list[Any] | None:
    """A virtual model's breakdown: its sub-generations linked by parent_id, in the order the
    gateway listed them; a sub-call not stored yet (or that failed) as the gateway listed it.
    None for any other generation."""
    listed = generation.provider_responses
    if not generation.virtual or generation.user_id is None:
        return listed
    rows = {row.id: row for row in Generation.objects.filter(
        parent_id=generation.id, user_id=generation.user_id)}
    items = [item for item in listed or () if isinstance(item, dict)]
    known = {item.get("id") for item in items}
    return [_metered(rows[item["id"]], item) if item.get("id") in rows else item
            for item in items] + [_metered(rows[i], {}) for i in sorted(set(rows) - known)]


def generation_data(generation: Generation) -> dict[str, Any]:
    """The `data` object of OpenRouter's GenerationResponse; every required field is present."""
    cost = float(generation.cost)
    responses = sub_generations(generation)
    return {
        "id": generation.id,
        "upstream_id": generation.upstream_id or None,
        "request_id": None,
        "session_id": generation.session_id or None,
        "created_at": generation.created_at.isoformat(),
        "model": generation.model,
        "provider_name": generation.provider_name or None,
        "router": None,
        "app_id": None,
        "http_referer": generation.http_referer or None,
        "origin": _origin(generation.http_referer),
        "user_agent": None,
        "external_user": generation.external_user or None,
        "api_type": generation.api_type,
        "streamed": generation.streamed,
        "cancelled": generation.cancelled,
        "finish_reason": generation.finish_reason or None,
        "native_finish_reason": generation.native_finish_reason or None,
        "latency": generation.latency_ms,
        "generation_time": generation.generation_time_ms,
        "moderation_latency": None,
        "tokens_prompt": generation.tokens_prompt,
        "tokens_completion": generation.tokens_completion,
        "native_tokens_prompt": generation.tokens_prompt,
        "native_tokens_completion": generation.tokens_completion,
        "native_tokens_reasoning": generation.tokens_reasoning,
        "native_tokens_cached": generation.tokens_cached,
        "native_tokens_completion_images": None,
        "num_media_prompt": None,
        "num_media_completion": None,
        "num_input_audio_prompt": None,
        "num_search_results": generation.num_search_results,
        "num_fetches": None,
        "total_cost": cost,
        "usage": cost,
        # A generation served with the account's own provider key keeps its list price.
        "upstream_inference_cost": float(generation.byok_usage) if generation.byok_usage else None,
        "cache_discount": None,
        "is_byok": generation.byok_usage > 0,
        "service_tier": generation.service_tier or None,
        "data_region": "global",
        "preset_id": None,
        "workspace_id": None,
        "web_search_engine": generation.web_search_engine or None,
        "response_cache_source_id": None,
        "provider_responses": None if responses is None else [_attempt(r) for r in responses],
    }


def _from_redis(generation_id: str, user_id: int) -> Generation | None:
    """The gateway's copy of the usage event, there from the moment the response ended."""
    raw = get_redis().get(gateway_state.generation(user_id, generation_id))
    if raw is None:
        return None
    try:
        return parse_raw(raw)
    except MalformedEvent:
        return None


def find_generation(generation_id: str, user_id: int) -> Generation | None:
    """Postgres first; else the not-yet-metered event in Redis. Only the owner's."""
    generation = Generation.objects.filter(pk=generation_id, user_id=user_id).first()
    if generation is None:
        generation = _from_redis(generation_id, user_id)
        if generation is not None and generation.user_id != user_id:
            generation = None
    return generation


def requested_generation(request: Request) -> Generation | None:
    """The generation named by `?id=`, if it is the calling key's account's (400 without id)."""
    generation_id = request.query_params.get("id", "").strip()
    if not generation_id:
        raise ApiError(400, "Missing required query parameter: id")
    if len(generation_id) > MAX_ID_LENGTH or not generation_id.isprintable():
        return None
    return find_generation(generation_id, request_key(request).user_id)


class GenerationView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def get(self, request: Request) -> Response:
        generation = requested_generation(request)
        if generation is None:
            # Someone else's generation is "not found" too: its existence is not revealed.
            raise ApiError(404, "Generation not found")
        return Response({"data": generation_data(generation)})
