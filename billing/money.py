"""USD amounts: Decimal in Postgres, integer nano-dollars in Redis (docs/gateway-state.md)."""

from decimal import ROUND_HALF_EVEN, Decimal

NANOS_PER_USD = 1_000_000_000


def to_nanos(amount: Decimal | int) -> int:
    return int((Decimal(amount) * NANOS_PER_USD).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def nanos_to_usd(nanos: int | str | bytes | None) -> float:
    """A Redis nano-dollar counter as the USD float the JSON API speaks."""
    if nanos is None or nanos == b"" or nanos == "":
        return 0.0
    return int(nanos) / NANOS_PER_USD
