"""Money in Redis, two atomic Lua scripts per generation (docs/gateway-state.md).

reserve: check the account balance and the key's limit for its period, then hold the
request's maximum cost in `reserved` (on the account and on the key).
settle: release the hold, charge the real cost to `spent` and to the key's usage periods,
write `gw:gen:<id>` and append the usage event to `gw:usage`, all in one script call so a
generation is charged exactly once and its event can never be lost or duplicated apart.
"""

import functools
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.errors import GatewayError
from gateway.redis_client import Redis

USAGE_STREAM = "gw:usage"
GENERATION_TTL = 86_400

RESERVE = """
local amount = tonumber(ARGV[1])
if amount > 0 then
  local acct = redis.call('HMGET', KEYS[1], 'credits', 'spent', 'reserved')
  local available = (tonumber(acct[1]) or 0) - (tonumber(acct[2]) or 0) - (tonumber(acct[3]) or 0)
  if available < amount then return {0, 'balance', available} end
  if ARGV[2] ~= '' then
    local used = redis.call('HMGET', KEYS[2], ARGV[3], 'reserved')
    local remaining = tonumber(ARGV[2]) - (tonumber(used[1]) or 0) - (tonumber(used[2]) or 0)
    if remaining < amount then return {0, 'limit', remaining} end
  end
elseif amount == 0 then
  local acct = redis.call('HMGET', KEYS[1], 'credits', 'spent', 'reserved')
  local available = (tonumber(acct[1]) or 0) - (tonumber(acct[2]) or 0) - (tonumber(acct[3]) or 0)
  if available < 0 then return {0, 'balance', available} end
  return {1, 'ok', available}
end
redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('HINCRBY', KEYS[2], 'reserved', amount)
return {1, 'ok', 0}
"""

SETTLE = """
local reserved = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
if reserved ~= 0 then
  redis.call('HINCRBY', KEYS[1], 'reserved', -reserved)
  redis.call('HINCRBY', KEYS[2], 'reserved', -reserved)
end
if cost ~= 0 then
  redis.call('HINCRBY', KEYS[1], 'spent', cost)
  redis.call('HINCRBY', KEYS[2], 'total', cost)
  redis.call('HINCRBY', KEYS[2], ARGV[3], cost)
  redis.call('HINCRBY', KEYS[2], ARGV[4], cost)
  redis.call('HINCRBY', KEYS[2], ARGV[5], cost)
end
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[3], ARGV[6], 'EX', ARGV[7])
  redis.call('XADD', KEYS[4], '*', 'event', ARGV[6])
end
return 1
"""


def period_fields(now: datetime | None = None) -> tuple[str, str, str]:
    """The key-usage fields of the current UTC day, ISO week and month."""
    if now is None:
        return _today(int(time.time() // 86400))
    year, week, _ = now.isocalendar()
    return f"d:{now:%Y-%m-%d}", f"w:{year}-W{week:02d}", f"m:{now:%Y-%m}"


@functools.lru_cache(maxsize=2)
def _today(day: int) -> tuple[str, str, str]:
    return period_fields(datetime.fromtimestamp(day * 86400, UTC))


@dataclass
class Hold:
    """Nano-dollars currently reserved for one request."""

    account_key: str
    usage_key: str
    amount: int = 0


class Meter:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._reserve = redis.register_script(RESERVE)
        self._settle = redis.register_script(SETTLE)

    async def reserve(
        self,
        hold: Hold,
        target: int,
        limit: int | None,
        limit_reset: str,
        *,
        max_tokens: int,
        completion_price_nanos: float,
    ) -> None:
        """Move the hold to `target` nano-dollars, or raise 402 if it cannot be afforded."""
        delta = target - hold.amount
        if delta < 0:
            # Lowering a hold always succeeds; release it in the settle step instead.
            return
        fields = period_fields()
        field = {"daily": fields[0], "weekly": fields[1], "monthly": fields[2]}.get(
            limit_reset, "total"
        )
        ok, reason, available = await self._reserve(
            keys=[hold.account_key, hold.usage_key],
            args=[delta, "" if limit is None else limit, field],
        )
        if int(ok) != 1:
            raise _payment_required(
                reason.decode() if isinstance(reason, bytes) else str(reason),
                int(available) + hold.amount,
                target,
                max_tokens,
                completion_price_nanos,
            )
        if delta > 0:
            hold.amount = target

    async def settle(self, hold: Hold, cost_nanos: int, generation_id: str,
                     event: bytes | None) -> None:
        day, week, month = period_fields()
        await self._settle(
            keys=[hold.account_key, hold.usage_key, f"gw:gen:{generation_id}", USAGE_STREAM],
            args=[hold.amount, cost_nanos, day, week, month, event or b"", GENERATION_TTL],
        )
        hold.amount = 0


def _payment_required(reason: str, available: int, needed: int, max_tokens: int,
                      completion_price_nanos: float) -> GatewayError:
    meta = {"error_type": "payment_required", "available": max(available, 0) / 1e9,
            "required": needed / 1e9}
    if reason == "limit":
        left = max(available, 0) / 1e9
        return GatewayError(402, "This key's credit limit is exhausted for this request: "
                            f"requires ${needed / 1e9:.9f}, the key has ${left:.9f} left.", meta)
    if needed > 0 and completion_price_nanos > 0 and available > 0:
        affordable = int(max(available, 0) / completion_price_nanos)
        return GatewayError(
            402,
            "This request requires more credits, or fewer max_tokens. You requested up to "
            f"{max_tokens} tokens, but can only afford {min(affordable, max_tokens)}. "
            "Add credits to your account.",
            meta,
        )
    return GatewayError(402, "Insufficient credits. Add more credits to your account.", meta)
