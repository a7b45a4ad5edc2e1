"""Which endpoints may serve a request, and in what order to try them.

One function, `plan`, from the request, the caller's account and the catalog snapshot to the
list of (model, endpoints-in-order) attempts. Live health will join the ordering later.
"""

import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from gateway.auth import Account
from gateway.catalog import Endpoint, Model, Snapshot
from gateway.errors import GatewayError, bad_request
from gateway.request import ChatRequest

TIERS = {"priority": "priority", "fast": "priority", "flex": "flex"}
MILLION = Decimal(1_000_000)


def _names(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"'provider.{field}' must be an array of provider slugs")
    return [v.lower() for v in value]


def matches(endpoint: Endpoint, slug: str) -> bool:
    """A base slug names a provider's standard endpoints; a full tag names one endpoint."""
    if "/" in slug:
        return endpoint.tag == slug
    return endpoint.provider == slug and endpoint.service_tier is None


def _tier_admitted(endpoint: Endpoint, variant: str | None, tier: str | None,
                   named: Sequence[str]) -> bool:
    if endpoint.service_tier is None:
        return True
    if endpoint.tag in named:
        return True
    if tier is not None and TIERS.get(tier) == endpoint.service_tier:
        return True
    return (variant, endpoint.service_tier) in (("nitro", "priority"), ("floor", "flex"))


def _weighted_first(endpoints: list[Endpoint], rng: random.Random) -> list[Endpoint]:
    """Default order: first pick weighted by 1/price², then the rest by ascending price."""
    by_price = sorted(endpoints, key=lambda e: e.pricing.blended)
    if len(by_price) < 2:
        return by_price
    free = [e for e in by_price if e.pricing.blended == 0]
    if free:
        first = rng.choice(free)
    else:
        weights = [1 / float(e.pricing.blended) ** 2 for e in by_price]
        first = rng.choices(by_price, weights=weights)[0]
    return [first] + [e for e in by_price if e is not first]


def _eligible(model: Model, variant: str | None, req: ChatRequest, account: Account,
              prefs: dict[str, Any]) -> tuple[list[Endpoint], list[str]]:
    """The endpoints that pass every filter, and the names of the filters that removed some."""
    order = _names(prefs.get("order"), "order")
    only = _names(prefs.get("only"), "only")
    ignore = _names(prefs.get("ignore"), "ignore") + [s.lower() for s in account.ignore]
    tier = req.body.get("service_tier")
    tier = tier if isinstance(tier, str) else None
    deny_training = account.deny_training or prefs.get("data_collection") == "deny"
    max_price = prefs.get("max_price")
    if not isinstance(max_price, dict):
        max_price = {}
    require = prefs.get("require_parameters") is True
    used = {k for k, v in req.body.items() if v is not None}

    kept: list[Endpoint] = []
    excluded: set[str] = set()
    for ep in model.endpoints:
        is_free_variant = ep.variant == "free"
        if variant == "free":
            if not is_free_variant:
                continue
        elif is_free_variant or (ep.variant is not None and ep.variant != variant):
            continue
        if not _tier_admitted(ep, variant, tier, order + only):
            continue
        if ep.context_length and req.prompt_tokens >= ep.context_length:
            excluded.add("context_length")
            continue
        if ep.max_prompt_tokens and req.prompt_tokens > ep.max_prompt_tokens:
            excluded.add("context_length")
            continue
        limit = ep.max_completion_tokens
        if req.max_tokens and limit and req.max_tokens > limit:
            excluded.add("max_tokens")
            continue
        if account.allow and ep.provider not in account.allow:
            excluded.add("allowed_providers")
            continue
        if only and not any(matches(ep, s) for s in only):
            excluded.add("allowed_providers")
            continue
        if any(matches(ep, s) or ep.provider == s for s in ignore):
            excluded.add("allowed_providers")
            continue
        if deny_training and ep.may_train:
            excluded.add("data_policy:training")
            continue
        if _over_price(ep, max_price):
            excluded.add("max_price")
            continue
        if require and ep.supported_parameters and not _supports(ep, used):
            excluded.add("require_parameters")
            continue
        kept.append(ep)
    # Soft preference: tools and structured outputs go where they are supported, if anywhere.
    for param in ("tools", "response_format"):
        if param in used:
            able = [e for e in kept if param in e.supported_parameters]
            if able:
                kept = able
    return kept, sorted(excluded)


def _supports(ep: Endpoint, used: set[str]) -> bool:
    checked = used & {"tools", "tool_choice", "response_format", "temperature", "top_p",
                      "top_k", "seed", "stop", "logprobs", "logit_bias", "frequency_penalty",
                      "presence_penalty", "repetition_penalty", "min_p", "top_a"}
    return checked <= ep.supported_parameters


def _over_price(ep: Endpoint, max_price: dict[str, Any]) -> bool:
    for field, per in (("prompt", MILLION), ("completion", MILLION), ("request", Decimal(1)),
                       ("image", Decimal(1))):
        limit = max_price.get(field)
        if isinstance(limit, int | float | str) and not isinstance(limit, bool):
            try:
                ceiling = Decimal(str(limit))
            except ArithmeticError:
                raise bad_request(f"'provider.max_price.{field}' must be a number") from None
            if getattr(ep.pricing, field) * per > ceiling:
                return True
    return False


def _order(endpoints: list[Endpoint], variant: str | None, prefs: dict[str, Any],
           rng: random.Random) -> list[Endpoint]:
    order = _names(prefs.get("order"), "order")
    sort = prefs.get("sort")
    if isinstance(sort, dict):
        sort = sort.get("by")
    if variant == "floor":
        sort = sort or "price"
    if sort in ("price", "throughput", "latency", "exacto"):
        # Without live statistics yet, every sort falls back to price.
        ranked = sorted(endpoints, key=lambda e: e.pricing.blended)
    else:
        ranked = _weighted_first(endpoints, rng)
    if order:
        first = [e for slug in order for e in ranked if matches(e, slug) or e.tag == slug]
        first = list(dict.fromkeys(first))
        rest = [e for e in ranked if e not in first]
        ranked = first if prefs.get("allow_fallbacks") is False else first + rest
    elif prefs.get("allow_fallbacks") is False:
        ranked = ranked[:1]
    return ranked


def plan(snapshot: Snapshot, req: ChatRequest, account: Account,
         rng: random.Random | None = None) -> list[tuple[Model, str | None, list[Endpoint]]]:
    rng = rng or random.Random()
    prefs = req.provider
    resolved = [snapshot.resolve(requested) for requested in req.models]
    attempts = []
    excluded_by: set[str] = set()
    for model, variant in resolved:
        endpoints, excluded = _eligible(model, variant, req, account, prefs)
        excluded_by.update(excluded)
        if endpoints:
            attempts.append((model, variant, _order(endpoints, variant, prefs, rng)))
    if not attempts:
        names = ", ".join(req.models)
        reason = f" (excluded by: {', '.join(sorted(excluded_by))})" if excluded_by else ""
        raise GatewayError(
            404,
            f"No endpoints found for {names} matching your request and provider preferences"
            f"{reason}.",
            {"error_type": "not_found", "availability": {
                "code": "no_endpoints", "retryable": False, "requested_models": req.models,
                "excluded_by": sorted(excluded_by), "docs_url": "/api/v1/models"}},
        )
    return attempts
