"""Which endpoints may serve a request, and in what order to try them (reference §6.3).

One function, `plan`, from the request, the caller's account, the catalog snapshot and the
live endpoint statistics (`gateway.stats.View`) to the list of (model, endpoints-in-order)
attempts:

1. filter: variant and tier admission, then each filter that can remove an endpoint, with
   the endpoint's tag and the filter's name kept for an actionable 404;
2. leave out the endpoints failing the quality probes while another one can serve, then split
   into stable endpoints and recently failing ones (significant failures in the last 30 s,
   see gateway/stats.py): failing ones go last, so they are tried again only when
   everything else failed, until their failures age out of the window;
3. order the stable ones: by `sort` (price, or the live throughput/latency percentiles), or
   by default pick the first at random weighted by 1/price² and follow by ascending price;
   `preferred_min_throughput`/`preferred_max_latency` move the endpoints that miss them
   behind those that meet them, never out;
4. `order` / `allow_fallbacks`; then `with_retries` adds a small retry budget: a failure
   before the first byte is tried again on the stable endpoints (charged once all the same),
   within the request's deadline (`Settings.retry_deadline`, enforced by the completions).
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.auth import Account
from gateway.catalog import Endpoint, Model, Snapshot
from gateway.errors import GatewayError, bad_request
from gateway.plugins import compression
from gateway.request import ChatRequest
from gateway.stats import PERCENTILES, Live, View

TIERS = {"priority": "priority", "fast": "priority", "flex": "flex"}
MILLION = Decimal(1_000_000)
SORTS = ("price", "throughput", "latency", "exacto")
# Extra attempts after every stable endpoint was tried once: with three endpoints failing 20%
# of the time, one pass succeeds 99.2% of the time, three more tries take it to ~99.99%.
RETRY_BUDGET = 3
EMPTY_VIEW = View()

Attempt = tuple[Model, str | None, list[Endpoint]]


@dataclass(frozen=True)
class Excluded:
    tag: str
    filter: str


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
        weights = [e.pricing.weight for e in by_price]
        first = rng.choices(by_price, weights=weights)[0]
    return [first] + [e for e in by_price if e is not first]


@dataclass(frozen=True)
class _Wants:
    """The request's and account's filters, read once per request (not once per endpoint)."""

    only: list[str]
    ignore: list[str]
    named: list[str]  # order + only: names that admit tier endpoints
    deny_training: bool
    deny_retention: bool
    zdr: bool
    quantizations: list[str]
    max_price: dict[str, Any] | None
    require: bool
    used: frozenset[str]
    tier: str | None
    # Context compression: "all", "small" (the default, endpoints of <= 8,192) or None (off).
    compress: str | None = "small"

    @classmethod
    def of(cls, req: ChatRequest, account: Account) -> "_Wants":
        prefs = req.provider
        tier = req.body.get("service_tier")
        compress = compression.mode(req.body)
        if not prefs and not account.ignore:  # the common case, without a dozen lookups
            return cls([], [], [], account.deny_training, False, False, [], None, False,
                       frozenset(k for k, v in req.body.items() if v is not None),
                       tier if isinstance(tier, str) else None, compress)
        only = _names(prefs.get("only"), "only")
        max_price = prefs.get("max_price")
        return cls(
            only=only,
            ignore=_names(prefs.get("ignore"), "ignore") + [s.lower() for s in account.ignore],
            named=_names(prefs.get("order"), "order") + only,
            deny_training=account.deny_training or prefs.get("data_collection") == "deny",
            deny_retention=prefs.get("data_collection") == "deny",
            zdr=prefs.get("zdr") is True,
            quantizations=_names(prefs.get("quantizations"), "quantizations"),
            max_price=max_price if isinstance(max_price, dict) and max_price else None,
            require=prefs.get("require_parameters") is True,
            used=frozenset(k for k, v in req.body.items() if v is not None),
            tier=tier if isinstance(tier, str) else None,
            compress=compress,
        )


def _too_long(ep: Endpoint, req: ChatRequest) -> bool:
    return bool((ep.context_length and req.prompt_tokens >= ep.context_length)
                or (ep.max_prompt_tokens and req.prompt_tokens > ep.max_prompt_tokens))


def _filter(ep: Endpoint, req: ChatRequest, account: Account, wants: _Wants,
            model: Model) -> str | None:
    """The name of the first filter that removes this endpoint (reference §2 names), or None."""
    if _too_long(ep, req) and not (compression.applies(wants.compress, model, ep)
                                   and compression.feasible(ep, req.max_tokens)):
        return "context_length"
    limit = ep.max_completion_tokens
    if req.max_tokens and limit and req.max_tokens > limit:
        return "max_tokens"
    if account.allow and ep.provider not in account.allow:
        return "allowed_providers"
    if wants.only and not any(matches(ep, s) for s in wants.only):
        return "allowed_providers"
    if wants.ignore and any(matches(ep, s) or ep.provider == s for s in wants.ignore):
        return "ignored_providers"
    if wants.deny_training and ep.may_train:
        return "data_policy:training"
    if wants.deny_retention and ep.retains_prompts:
        return "data_policy:retention"
    if wants.zdr and ep.retains_prompts:
        return "data_policy:zdr"
    if wants.quantizations and (ep.quantization or "unknown") not in wants.quantizations:
        return "quantization"
    if wants.max_price is not None and _over_price(ep, wants.max_price):
        return "max_price"
    if wants.require and ep.supported_parameters and not _supports(ep, wants.used):
        return "require_parameters"
    return None


def _eligible(model: Model, variant: str | None, req: ChatRequest, account: Account,
              wants: _Wants) -> tuple[list[Endpoint], list[Excluded]]:
    """The endpoints that pass every filter, and which filter removed each of the others."""
    kept: list[Endpoint] = []
    excluded: list[Excluded] = []
    for ep in model.endpoints:
        is_free_variant = ep.variant == "free"
        if variant == "free":
            if not is_free_variant:
                continue
        elif is_free_variant or (ep.variant is not None and ep.variant != variant):
            continue
        if not _tier_admitted(ep, variant, wants.tier, wants.named):
            continue
        reason = _filter(ep, req, account, wants, model)
        if reason is None:
            kept.append(ep)
        else:
            excluded.append(Excluded(ep.tag, reason))
    # Soft preference: tools and structured outputs go where they are supported, if anywhere.
    for param in ("tools", "response_format"):
        if param in wants.used:
            able = [e for e in kept if param in e.supported_parameters]
            if able:
                kept = able
    return kept, excluded


def _unscreened(endpoints: list[Endpoint], screened: frozenset[int],
                excluded: list[Excluded]) -> list[Endpoint]:
    """Endpoints failing the quality probes are out of the lane while any other can serve;
    when none can, they stay (ordered like recently failing ones: last)."""
    passing = [e for e in endpoints if e.id not in screened]
    if not passing:
        return endpoints
    excluded.extend(Excluded(e.tag, "quality") for e in endpoints if e.id in screened)
    return passing


def _supports(ep: Endpoint, used: frozenset[str]) -> bool:
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


# -- ordering by live statistics --------------------------------------------------------------

def _cutoffs(value: Any, field: str) -> dict[str, float]:
    """`preferred_*`: a number (applies to p50) or an object of percentiles."""
    if value is None:
        return {}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"p50": float(value)}
    if isinstance(value, dict) and value and all(
        k in PERCENTILES and isinstance(v, int | float) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        return {k: float(v) for k, v in value.items()}
    raise bad_request(f"'provider.{field}' must be a number or an object of p50, p75, p90, p99")


def _meets(live: Live, min_tps: dict[str, float], max_latency_s: dict[str, float]) -> bool:
    """An endpoint without figures is not known to miss a preference, so it keeps its place."""
    if min_tps and live.throughput is not None and any(
        live.throughput[p] < cut for p, cut in min_tps.items()
    ):
        return False
    return not (max_latency_s and live.ttft is not None and any(
        live.ttft[p] / 1000 > cut for p, cut in max_latency_s.items()
    ))


def _by_live(endpoints: list[Endpoint], by: str, view: View) -> list[Endpoint]:
    """Sorted by p50 throughput (descending) or time to first token (ascending), price breaking
    ties. Endpoints without recent figures come first: one request measures them, and an
    endpoint that is never tried would never get figures."""
    def key(ep: Endpoint) -> tuple[int, float, Decimal]:
        live = view[ep.id]
        figures = live.throughput if by == "throughput" else live.ttft
        if figures is None:
            return (0, 0.0, ep.pricing.blended)
        value = -figures["p50"] if by == "throughput" else figures["p50"]
        return (1, value, ep.pricing.blended)
    return sorted(endpoints, key=key)


def _sort_of(prefs: dict[str, Any], variant: str | None) -> tuple[str | None, str]:
    sort = prefs.get("sort")
    partition = "model"
    if isinstance(sort, dict):
        partition = sort.get("partition") or "model"
        if partition not in ("model", "none"):
            raise bad_request("'provider.sort.partition' must be \"model\" or \"none\"")
        sort = sort.get("by")
    if sort is not None and sort not in SORTS:
        raise bad_request(f"'provider.sort' must be one of {', '.join(SORTS)}")
    if sort is None and variant == "nitro":
        sort = "throughput"
    if sort is None and variant == "floor":
        sort = "price"
    return sort, partition


def _order(endpoints: list[Endpoint], variant: str | None, prefs: dict[str, Any],
           rng: random.Random, view: View) -> list[Endpoint]:
    order = _names(prefs.get("order"), "order")
    sort, _ = _sort_of(prefs, variant)
    min_tps = _cutoffs(prefs.get("preferred_min_throughput"), "preferred_min_throughput")
    max_latency = _cutoffs(prefs.get("preferred_max_latency"), "preferred_max_latency")
    down = view.failing
    stable = [e for e in endpoints if e.id not in down] if down else endpoints
    failing = sorted((e for e in endpoints if e.id in down),
                     key=lambda e: e.pricing.blended)
    if min_tps or max_latency:
        preferred = [e for e in stable if _meets(view[e.id], min_tps, max_latency)]
        chosen = {id(e) for e in preferred}
        others = [e for e in stable if id(e) not in chosen]
    else:
        preferred, others = stable, []

    def arrange(group: list[Endpoint], weighted: bool) -> list[Endpoint]:
        if sort in ("throughput", "latency"):
            return _by_live(group, sort, view)
        if sort is not None or not weighted:
            return sorted(group, key=lambda e: e.pricing.blended)
        return _weighted_first(group, rng)

    ranked = arrange(preferred, True) + arrange(others, False) + failing
    if order:
        first = [e for slug in order for e in ranked if matches(e, slug) or e.tag == slug]
        first = list({id(e): e for e in first}.values())
        firsts = {id(e) for e in first}
        rest = [e for e in ranked if id(e) not in firsts]
        ranked = first if prefs.get("allow_fallbacks") is False else first + rest
    elif prefs.get("allow_fallbacks") is False:
        ranked = ranked[:1]
    return ranked


def with_retries(attempts: list[Attempt], view: View | None = None,
                 budget: int = RETRY_BUDGET) -> list[Attempt]:
    """Each model's stable endpoints in order, then `budget` more tries over them, then its
    recently failing ones: a failure before the first byte is retried within the budget."""
    view = EMPTY_VIEW if view is None else view
    out: list[Attempt] = []
    for model, variant, ranked in attempts:
        stable = [e for e in ranked if e.id not in view.failing] or ranked[:1]
        retries = [stable[i % len(stable)] for i in range(budget)]
        kept = {id(e) for e in stable}
        out.append((model, variant, stable + retries + [e for e in ranked if id(e) not in kept]))
    return out


def _global_sort(attempts: list[Attempt], prefs: dict[str, Any], view: View) -> list[Attempt]:
    """`partition: "none"`: one order over the endpoints of every listed model."""
    sort, _ = _sort_of(prefs, None)
    pairs = [(model, variant, ep) for model, variant, eps in attempts
             for ep in dict.fromkeys(eps)]
    endpoints = [ep for _, _, ep in pairs]
    if sort in ("throughput", "latency"):
        ordered = _by_live(endpoints, sort, view)
    else:
        ordered = sorted(endpoints, key=lambda e: e.pricing.blended)
    owner = {id(ep): (model, variant) for model, variant, ep in pairs}
    return [(*owner[id(ep)], [ep]) for ep in ordered]


def plan(snapshot: Snapshot, req: ChatRequest, account: Account,
         rng: random.Random | None = None, view: View | None = None) -> list[Attempt]:
    rng = rng or random.Random()
    view = EMPTY_VIEW if view is None else view
    prefs = req.provider
    resolved = [snapshot.resolve(requested) for requested in req.models]
    attempts: list[Attempt] = []
    excluded: list[Excluded] = []
    wants = _Wants.of(req, account)
    for model, variant in resolved:
        endpoints, removed = _eligible(model, variant, req, account, wants)
        excluded.extend(removed)
        if view.screened:
            endpoints = _unscreened(endpoints, view.screened, excluded)
        if endpoints:
            ranked = _order(endpoints, variant, prefs, rng, view)
            long = [e for e in ranked if _too_long(e, req)] if wants.compress else ()
            if long:
                # Endpoints that hold the whole prompt first: compression is the last resort.
                ranked = [e for e in ranked if e not in long] + list(long)
            attempts.append((model, variant, ranked))
    if not attempts:
        if excluded and all(x.filter == "context_length" for x in excluded):
            # One rule for a prompt too long everywhere: the 400 that names the largest context.
            raise compression.context_exceeded(
                max((m for m, _ in resolved), key=lambda m: m.context_length), req.prompt_tokens)
        raise no_endpoints(req.models, excluded)
    sort = prefs.get("sort")
    if isinstance(sort, dict) and sort.get("partition") == "none" and len(attempts) > 1:
        attempts = _global_sort(attempts, prefs, view)
    return attempts


def no_endpoints(models: list[str], excluded: list[Excluded]) -> GatewayError:
    """The actionable 404: which filter removed which endpoint, by tag."""
    names = ", ".join(models)
    filters = sorted({x.filter for x in excluded})
    if excluded:
        detail = "; ".join(f"{x.tag} by {x.filter}" for x in excluded)
        message = (f"No endpoints found for {names} matching your request and provider "
                   f"preferences. Excluded: {detail}.")
    else:
        message = f"No endpoints found for {names}."
    code = "no_endpoints"
    if filters and all(f.startswith("data_policy") for f in filters):
        code = "privacy_restricted"
    elif filters:
        code = "constraint_filtered"
    by_endpoint = [{"tag": x.tag, "filter": x.filter} for x in excluded]
    return GatewayError(404, message, {
        "error_type": "not_found",
        "excluded_endpoints": by_endpoint,
        "availability": {
            "code": code, "retryable": False, "retry_after": None, "requested_models": models,
            "affected_providers": sorted({x.tag for x in excluded}) or None,
            "excluded_by": filters, "excluded_endpoints": by_endpoint,
            "fallback_models": [], "docs_url": "/api/v1/models"},
    })
