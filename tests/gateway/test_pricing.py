"""Cost: Decimal USD from usage and endpoint prices, half-even to the nano-dollar."""

from decimal import Decimal

from gateway.catalog import Endpoint, Pricing
from gateway.pricing import Usage, cost, max_cost_nanos


def priced(**prices: object) -> Endpoint:
    return Endpoint(1, "a/m", "p", "P", "p", "openai", "http://x", None, "m", None, None,
                    1_000_000, None, None, Pricing.parse(prices), frozenset(), False, True)


def test_cost_is_exact_and_rounded_half_even_to_nanos():
    ep = priced(prompt="0.0000001", completion="0.00000032")
    charged = cost(ep, Usage(prompt_tokens=42, completion_tokens=128))
    assert charged.total == Decimal("0.00004516") and charged.nanos == 45160
    tiny = priced(prompt="0.00000000001")  # 1e-11 USD per token
    assert cost(tiny, Usage(prompt_tokens=50)).nanos == 0  # 0.5 nano rounds to even (0)
    assert cost(tiny, Usage(prompt_tokens=150)).nanos == 2  # 1.5 rounds to 2


def test_overrides_apply_above_their_prompt_size():
    ep = priced(prompt="0.000001", completion="0.000002",
                overrides=[{"min_prompt_tokens": 200000, "prompt": "0.000002"}])
    assert cost(ep, Usage(prompt_tokens=1000)).total == Decimal("0.001")
    assert cost(ep, Usage(prompt_tokens=200000)).total == Decimal("0.4")


def test_cache_reads_request_and_reservation():
    ep = priced(prompt="0.000001", completion="0.000002", input_cache_read="0.0000001",
                request="0.001")
    charged = cost(ep, Usage(prompt_tokens=100, completion_tokens=10, cached_tokens=50))
    assert charged.total == Decimal("0.000050") + Decimal("0.000005") + Decimal("0.00002") \
        + Decimal("0.001")
    assert max_cost_nanos(ep, 100, 10, 0) == 100 * 1000 + 10 * 2000 + 1_000_000
