"""Key usage as the gateway counts it: `gw:{s<k>}:keyusage:<hash>`, nano-dollars per UTC period,
BYOK list-price usage per period (`byok:<period>`), and the time of the key's last generation."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from accounts.models import ApiKey
from billing.money import nanos_to_usd
from config import gateway_state
from config.redis import get_redis


def period_fields(now: datetime | None = None) -> dict[str, str]:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "daily": now.strftime("d:%Y-%m-%d"),
        "weekly": now.strftime("w:%G-W%V"),
        "monthly": now.strftime("m:%Y-%m"),
    }


@dataclass(frozen=True)
class KeyUsage:
    total: float = 0.0
    daily: float = 0.0
    weekly: float = 0.0
    monthly: float = 0.0
    last_used: datetime | None = None
    # What the key's BYOK generations cost at list price (the provider billed the user).
    byok_total: float = 0.0
    byok_daily: float = 0.0
    byok_weekly: float = 0.0
    byok_monthly: float = 0.0

    def for_reset(self, limit_reset: str, include_byok: bool = False) -> float:
        spent = {"daily": self.daily, "weekly": self.weekly, "monthly": self.monthly}.get(
            limit_reset, self.total
        )
        if include_byok:
            spent += {"daily": self.byok_daily, "weekly": self.byok_weekly,
                      "monthly": self.byok_monthly}.get(limit_reset, self.byok_total)
        return spent


def usage_of(keys: Sequence[ApiKey]) -> dict[str, KeyUsage]:
    """Usage of many keys in one Redis round trip."""
    fields = period_fields()
    periods = ["total", fields["daily"], fields["weekly"], fields["monthly"]]
    names = [*periods, "last_used", *("byok:" + p for p in periods)]
    pipe = get_redis().pipeline(transaction=False)
    for key in keys:
        pipe.hmget(gateway_state.key_usage(key.user_id, key.hash), names)
    result: dict[str, KeyUsage] = {}
    for key, values in zip(keys, pipe.execute(), strict=True):
        total, daily, weekly, monthly = (nanos_to_usd(v) for v in values[:4])
        last = datetime.fromtimestamp(int(values[4]), UTC) if values[4] else None
        byok = [nanos_to_usd(v) for v in values[5:]]
        result[key.hash] = KeyUsage(total, daily, weekly, monthly, last, *byok)
    return result


def limit_remaining(key: ApiKey, usage: KeyUsage) -> float | None:
    if key.limit is None:
        return None
    spent = usage.for_reset(key.limit_reset, key.include_byok_in_limit)
    return max(0.0, float(key.limit - Decimal(str(spent))))
