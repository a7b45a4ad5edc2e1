"""How endpoint prices are written on the wire and ordered (shared by the API, pages and the
gateway snapshot)."""

from decimal import Decimal
from typing import Any

from marketplace.models import Endpoint

MILLION = Decimal(1_000_000)


def price_str(value: Decimal) -> str:
    """USD per token as OpenRouter writes it: plain decimal, no exponent, no trailing zeros."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


def api_pricing(endpoint: Endpoint) -> dict[str, Any]:
    """The `pricing` object of /models and /endpoints: always prompt, completion, request,
    image; image output, cache prices and long-context overrides only when the endpoint has
    them."""
    pricing: dict[str, Any] = {
        "prompt": price_str(endpoint.price_prompt),
        "completion": price_str(endpoint.price_completion),
        "request": price_str(endpoint.price_request),
        "image": price_str(endpoint.price_image),
    }
    if endpoint.price_image_output:
        pricing["image_output"] = price_str(endpoint.price_image_output)
    if endpoint.price_input_cache_read:
        pricing["input_cache_read"] = price_str(endpoint.price_input_cache_read)
    if endpoint.price_input_cache_write:
        pricing["input_cache_write"] = price_str(endpoint.price_input_cache_write)
    if endpoint.pricing_overrides:
        pricing["overrides"] = endpoint.pricing_overrides
    return pricing


def default_order_key(endpoint: Endpoint) -> tuple[Decimal, str, str]:
    """Cheapest first (prompt + completion per token), the order a default request tries."""
    return (endpoint.blended_price, endpoint.tag, endpoint.variant)


def per_million(value: Decimal) -> Decimal:
    return value * MILLION
