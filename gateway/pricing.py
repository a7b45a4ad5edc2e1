"""What a generation costs: exact Decimal USD, charged as integer nano-dollars (half-even)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from gateway import byok
from gateway.catalog import Endpoint

NANO = Decimal("0.000000001")
NANOS_PER_USD = 1_000_000_000


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    images: int = 0
    # Images the model drew, priced per image (`image_output`), not per token.
    images_out: int = 0


@dataclass(frozen=True)
class Cost:
    total: Decimal  # rounded to the nano-dollar: what is charged
    prompt: Decimal
    completion: Decimal
    # BYOK only: the provider's charge at list price, billed to the account by the provider.
    upstream: Decimal | None = None

    @property
    def is_byok(self) -> bool:
        return self.upstream is not None

    @property
    def nanos(self) -> int:
        return int(self.total / NANO)


def to_nanos(amount: Decimal) -> int:
    return int(amount.quantize(NANO, rounding=ROUND_HALF_EVEN) / NANO)


# An account that opted in to prompt logging pays this share of the list price (1% off).
PROMPT_LOGGING_SHARE = Decimal("0.99")


def cost(
    endpoint: Endpoint, usage: Usage, *, prompt_logging: bool = False, byok_used_nanos: int = 0
) -> Cost:
    """prompt·p + completion·c + request + images·image + images drawn·image_output + cache
    reads/writes, with overrides.

    Cached prompt tokens are billed at the cache-read price when the endpoint has one, and
    reasoning tokens are part of the completion tokens (priced as completion). With
    `prompt_logging` the charge is 1% less; `prompt` and `completion` stay the provider's
    prices (the upstream cost). Called with the account's own key (BYOK), the charge is the
    BYOK fee on that list price, given the month's BYOK usage so far (`byok_used_nanos`).
    """
    prices = endpoint.pricing.for_prompt(usage.prompt_tokens)
    cached = min(usage.cached_tokens, usage.prompt_tokens) if prices.input_cache_read else 0
    written = usage.cache_write_tokens if prices.input_cache_write else 0
    prompt = (
        (usage.prompt_tokens - cached - written) * prices.prompt
        + cached * prices.input_cache_read
        + written * prices.input_cache_write
        + usage.images * prices.image
    )
    completion = (usage.completion_tokens * prices.completion
                  + usage.images_out * prices.image_output)
    listed = prompt + completion + prices.request
    upstream = None
    if endpoint.byok is not None:
        upstream = listed.quantize(NANO, rounding=ROUND_HALF_EVEN)
        listed = byok.fee(listed, byok_used_nanos)
    if prompt_logging:
        listed *= PROMPT_LOGGING_SHARE
    total = listed.quantize(NANO, rounding=ROUND_HALF_EVEN)
    return Cost(total, prompt, completion, upstream)


def max_cost_nanos(endpoint: Endpoint, prompt_tokens: int, max_tokens: int, images: int,
                   images_out: int = 0) -> int:
    """The most this request can cost on this endpoint: what the reservation holds.

    Rounded up, so the reservation never falls short of the charge by a rounding unit; every
    prompt token priced as the dearer of a plain and a cache-writing one; `images_out` the
    most images the answer may draw.
    """
    prices = endpoint.pricing.for_prompt(prompt_tokens)
    amount = (
        prompt_tokens * max(prices.prompt, prices.input_cache_write)
        + max_tokens * prices.completion
        + images * prices.image
        + images_out * prices.image_output
        + prices.request
    )
    if endpoint.byok is not None:
        amount *= byok.fee_share()  # the provider bills the user; we hold only our fee
    nanos = amount / NANO
    return int(nanos) + (1 if nanos != int(nanos) else 0)
