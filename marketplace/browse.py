"""Filtering and sorting the catalog, shared by GET /api/v1/models and the /models page.

Both read the same query parameters (OpenRouter's names), so a browser URL and an API URL with
the same query select the same models. Lists may be comma-separated or repeated.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.http import QueryDict

from marketplace import stats
from marketplace.catalog import ModelEntry
from marketplace.pricing import MILLION

SORTS = {
    "newest": "Newest",
    "pricing-low-to-high": "Price: low to high",
    "pricing-high-to-low": "Price: high to low",
    "context-high-to-low": "Context: high to low",
    "most-popular": "Most popular",
}
# Accepted for compatibility; without the data behind them they keep the default order.
OTHER_SORTS = {
    "top-weekly",
    "throughput-high-to-low",
    "latency-low-to-high",
    "intelligence-high-to-low",
    "coding-high-to-low",
    "agentic-high-to-low",
    "design-arena-elo-high-to-low",
}


class FilterError(ValueError):
    pass


@dataclass
class Filters:
    q: str = ""
    input_modalities: list[str] = field(default_factory=list)
    output_modalities: list[str] = field(default_factory=list)  # empty = any
    supported_parameters: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    model_authors: list[str] = field(default_factory=list)
    arch: str = ""
    context: int | None = None
    min_price: Decimal | None = None  # USD per 1M prompt tokens
    max_price: Decimal | None = None
    min_output_price: Decimal | None = None  # USD per 1M completion tokens
    max_output_price: Decimal | None = None
    min_age_days: int | None = None
    max_age_days: int | None = None
    free: bool = False
    zdr: bool = False
    sort: str = "newest"


def _list(query: QueryDict, name: str) -> list[str]:
    values: list[str] = []
    for raw in query.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def _number(query: QueryDict, name: str) -> Decimal | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FilterError(f"'{name}' must be a number, got {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise FilterError(f"'{name}' must be a non-negative number, got {raw!r}")
    return value


def _integer(query: QueryDict, name: str) -> int | None:
    value = _number(query, name)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise FilterError(f"'{name}' must be a whole number, got {value}")
    return int(value)


def parse_filters(query: QueryDict, *, default_output: str = "") -> Filters:
    """Raises FilterError with a message naming the bad parameter."""
    sort = query.get("sort", "").strip() or "newest"
    if sort not in SORTS and sort not in OTHER_SORTS:
        raise FilterError(f"'sort' must be one of {', '.join([*SORTS, *sorted(OTHER_SORTS)])}")
    outputs = _list(query, "output_modalities") or ([default_output] if default_output else [])
    if outputs == ["all"]:
        outputs = []
    return Filters(
        q=query.get("q", "").strip()[:200],
        input_modalities=_list(query, "input_modalities"),
        output_modalities=outputs,
        supported_parameters=_list(query, "supported_parameters"),
        providers=[p.lower() for p in _list(query, "providers")],
        model_authors=_list(query, "model_authors"),
        arch=query.get("arch", "").strip().lower(),
        context=_integer(query, "context"),
        min_price=_number(query, "min_price"),
        max_price=_number(query, "max_price"),
        min_output_price=_number(query, "min_output_price"),
        max_output_price=_number(query, "max_output_price"),
        min_age_days=_integer(query, "min_age_days"),
        max_age_days=_integer(query, "max_age_days"),
        free=query.get("free", "") in ("1", "true", "on"),
        zdr=query.get("zdr", "") == "true",
        sort=sort,
    )


def _checks(f: Filters) -> list[Callable[[ModelEntry], bool]]:
    """One predicate per active filter, so an idle filter costs nothing per entry."""
    checks: list[Callable[[ModelEntry], bool]] = []
    if f.q:
        words = f.q.lower().split()
        checks.append(lambda e: all(w in e.search_text for w in words))
    if f.input_modalities:
        inputs = set(f.input_modalities)
        checks.append(lambda e: inputs.issubset(e.input_modalities))
    if f.output_modalities:
        outputs = set(f.output_modalities)
        checks.append(lambda e: outputs.issubset(e.output_modalities))
    if f.supported_parameters:
        params = set(f.supported_parameters)
        checks.append(lambda e: params <= e.supported_parameters)
    if f.providers:
        wanted = set(f.providers)
        checks.append(lambda e: bool(wanted & e.provider_slugs or wanted & e.provider_names))
    if f.model_authors:
        authors = set(f.model_authors)
        checks.append(lambda e: e.author in authors)
    if f.arch:
        arch = f.arch
        checks.append(lambda e: e.tokenizer.lower().startswith(arch))
    if f.context is not None:
        context = f.context
        checks.append(lambda e: e.context_length >= context)
    # Prices in the query are USD per million tokens; entries hold USD per token.
    if f.min_price is not None:
        low = f.min_price / MILLION
        checks.append(lambda e: e.prompt >= low)
    if f.max_price is not None:
        high = f.max_price / MILLION
        checks.append(lambda e: e.prompt <= high)
    if f.min_output_price is not None:
        low_out = f.min_output_price / MILLION
        checks.append(lambda e: e.completion >= low_out)
    if f.max_output_price is not None:
        high_out = f.max_output_price / MILLION
        checks.append(lambda e: e.completion <= high_out)
    now = time.time()
    if f.min_age_days is not None:
        newest = now - f.min_age_days * 86400
        checks.append(lambda e: e.created <= newest)
    if f.max_age_days is not None:
        oldest = now - f.max_age_days * 86400
        checks.append(lambda e: e.created >= oldest)
    if f.free:
        checks.append(lambda e: e.is_free)
    if f.zdr:
        checks.append(lambda e: e.zdr)
    return checks


def select(entries: list[ModelEntry], f: Filters) -> list[ModelEntry]:
    """The entries matching `f`, in the order it asks for (entries come newest first)."""
    checks = _checks(f)
    found = [e for e in entries if all(check(e) for check in checks)]
    if f.sort == "pricing-low-to-high":
        found.sort(key=lambda e: (e.prompt, e.completion, e.id))
    elif f.sort == "pricing-high-to-low":
        found.sort(key=lambda e: (-e.prompt, -e.completion, e.id))
    elif f.sort == "context-high-to-low":
        found.sort(key=lambda e: (-e.context_length, e.id))
    elif f.sort in ("most-popular", "top-weekly"):
        tokens = stats.weekly_tokens()
        found.sort(key=lambda e: (-tokens.get(e.id, 0), -e.endpoint_count, -e.created))
    return found
