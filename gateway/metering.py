"""Money in Redis, two atomic Lua scripts per generation (docs/gateway-state.md).

reserve: check the account balance and the key's limit for its period, then hold the
request's maximum cost in `reserved` (on the account and on the key) and record the hold in
the shard's `gw:{s<k>}:holds` with a deadline, so that if this process dies before settling,
the Django side's sweeper (billing/holds.py) gives the amount back after the deadline.
settle: remove the hold record and release its amount, charge the real cost to `spent` and to
the key's usage periods, write `gw:{s<k>}:gen:<id>` and append the usage event to the shard's
`gw:{s<k>}:usage`, all in one script call so a generation is charged exactly once and its event
can never be lost or duplicated apart.
"""

import functools
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway import keys
from gateway.errors import GatewayError
from gateway.redis_client import Arg, Redis, RedisUnavailable
from gateway.spool import Spool

log = logging.getLogger(__name__)

GENERATION_TTL = 86_400

# KEYS: account, key usage, the shard's holds (one hash slot). ARGV: target, held, limit,
# limit field, lifetime, the hold's current record, its new record, '1' when the key's BYOK
# list-price usage of the period counts toward its limit (`include_byok_in_limit`). `held` is
# what this request holds already (a fallback to a pricier endpoint tops it up); if the sweeper
# released it meanwhile, nothing is held any more and the whole target is reserved anew.
# Deadlines use the Redis clock, the one clock every gateway and the sweeper share.
RESERVE = """
local target = tonumber(ARGV[1])
local held = tonumber(ARGV[2])
if held > 0 and not redis.call('ZSCORE', KEYS[3], ARGV[6]) then held = 0 end
local amount = target - held
local acct = redis.call('HMGET', KEYS[1], 'credits', 'spent', 'reserved')
if not acct[1] or not acct[2] then return {0, 'state', 0} end
local available = (tonumber(acct[1]) or 0) - (tonumber(acct[2]) or 0) - (tonumber(acct[3]) or 0)
if amount <= 0 then
  if available < 0 then return {0, 'balance', available} end
  return {1, 'ok', available}
end
if available < amount then return {0, 'balance', available} end
if ARGV[3] ~= '' then
  local used = redis.call('HMGET', KEYS[2], ARGV[4], 'reserved', 'byok:' .. ARGV[4])
  local remaining = tonumber(ARGV[3]) - (tonumber(used[1]) or 0) - (tonumber(used[2]) or 0)
  if ARGV[8] == '1' then remaining = remaining - (tonumber(used[3]) or 0) end
  if remaining < amount then return {0, 'limit', remaining} end
end
redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('HINCRBY', KEYS[2], 'reserved', amount)
if held > 0 then redis.call('ZREM', KEYS[3], ARGV[6]) end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[3], now[1] + now[2] / 1e6 + tonumber(ARGV[5]), ARGV[7])
return {1, 'ok', 0}
"""

# KEYS: account, key usage, generation record, usage stream, holds, BYOK usage: one shard's
# keys. A BYOK generation's list price (ARGV[10], month field ARGV[11]) counts toward the
# month's free allowance here, and into the key's `byok:<period>` fields, so it is counted
# exactly when the charge is, replays included (a settle spooled before the BYOK key existed
# has no ARGV[10]).
# The hold's amount is released only if this script removes its record: if the sweeper got
# there first, it released it. Idempotent, so a spooled settle can be replayed after a reply
# was lost: a generation whose record exists was charged already. `spent` is only ever added
# to, never created: an account hash without it (Redis lost its data) gets it from the ledger,
# which will count this generation through the usage event.
SETTLE = """
if ARGV[6] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local cost = tonumber(ARGV[2])
if ARGV[8] ~= '' and redis.call('ZREM', KEYS[5], ARGV[8]) == 1 then
  local reserved = tonumber(ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'reserved', -reserved)
  redis.call('HINCRBY', KEYS[2], 'reserved', -reserved)
end
if cost ~= 0 then
  if redis.call('HEXISTS', KEYS[1], 'spent') == 1 then
    redis.call('HINCRBY', KEYS[1], 'spent', cost)
  end
  redis.call('HINCRBY', KEYS[2], 'total', cost)
  redis.call('HINCRBY', KEYS[2], ARGV[3], cost)
  redis.call('HINCRBY', KEYS[2], ARGV[4], cost)
  redis.call('HINCRBY', KEYS[2], ARGV[5], cost)
end
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[3], ARGV[6], 'EX', ARGV[7])
  redis.call('XADD', KEYS[4], '*', 'event', ARGV[6])
  redis.call('HSET', KEYS[2], 'last_used', ARGV[9])
end
if KEYS[6] and tonumber(ARGV[10] or '0') > 0 then
  redis.call('HINCRBY', KEYS[6], ARGV[11], ARGV[10])
  for _, period in ipairs({'total', ARGV[3], ARGV[4], ARGV[5]}) do
    redis.call('HINCRBY', KEYS[2], 'byok:' .. period, ARGV[10])
  end
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
    """Nano-dollars currently reserved for one request, and its record in its shard's holds."""

    generation_id: str
    user_id: str
    key_hash: str
    amount: int = 0
    record: str = ""  # empty while nothing is held

    @property
    def account_key(self) -> str:
        return keys.account(self.user_id)

    @property
    def usage_key(self) -> str:
        return keys.key_usage(self.user_id, self.key_hash)

    @property
    def holds_key(self) -> str:
        return keys.holds(keys.shard_of(self.user_id))

    def record_for(self, amount: int) -> str:
        # The sweeper reads the amount and both keys back from the record (billing/holds.py);
        # the account key goes last because only it could ever contain a "|".
        return f"{self.generation_id}|{amount}|{self.usage_key}|{self.account_key}"


def state_unavailable() -> GatewayError:
    return GatewayError(503, "Account state is unavailable or being restored; retry shortly.",
                        {"error_type": "state_unavailable"}, retry_after=1)


class Meter:
    def __init__(self, redis: Redis, hold_lifetime: float, spool: Spool | None = None) -> None:
        # Seconds after which an unsettled hold is taken for dead (Settings.hold_lifetime).
        self.redis = redis
        self.hold_lifetime = hold_lifetime
        self.spool = spool
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
        include_byok: bool = False,
    ) -> None:
        """Move the hold to `target` nano-dollars, or raise 402 if it cannot be afforded."""
        if target < hold.amount:
            # Lowering a hold always succeeds; release it in the settle step instead.
            return
        fields = period_fields()
        field = {"daily": fields[0], "weekly": fields[1], "monthly": fields[2]}.get(
            limit_reset, "total"
        )
        record = hold.record_for(target)
        try:
            ok, reason, available = await self._reserve(
                keys=[hold.account_key, hold.usage_key, hold.holds_key],
                args=[target, hold.amount, "" if limit is None else limit, field,
                      self.hold_lifetime, hold.record, record, int(include_byok)],
            )
        except RedisUnavailable:
            raise state_unavailable() from None
        if int(ok) != 1:
            why = reason.decode() if isinstance(reason, bytes) else str(reason)
            if why == "state":
                # No `credits` or no `spent`: Redis lost the account (flushed, or restored
                # from an old snapshot). Refuse until the ledger has been published again.
                raise state_unavailable()
            raise _payment_required(
                why,
                int(available) + hold.amount,
                target,
                max_tokens,
                completion_price_nanos,
            )
        if target > hold.amount:
            hold.amount, hold.record = target, record

    async def settle(self, hold: Hold, cost_nanos: int, generation_id: str,
                     event: bytes | None, *, byok_listed_nanos: int = 0) -> None:
        """Release the hold and charge the cost (and count a BYOK generation's list price
        toward the month's allowance). Never lost: if Redis cannot be reached, the call is
        written to the spool and replayed (idempotently) once Redis answers."""
        day, week, month = period_fields()
        call_keys = [hold.account_key, hold.usage_key,
                     keys.generation(hold.user_id, generation_id),
                     keys.usage_stream(keys.shard_of(hold.user_id)), hold.holds_key]
        args: list[Arg] = [hold.amount, cost_nanos, day, week, month, event or b"",
                           GENERATION_TTL, hold.record, int(time.time())]
        if byok_listed_nanos > 0:
            call_keys.append(keys.byok_usage(hold.user_id))
            args += [byok_listed_nanos, month]
        hold.amount, hold.record = 0, ""
        if not args[0] and not event:
            return  # nothing held, nothing to charge
        try:
            await self._settle(keys=call_keys, args=args)
        except RedisUnavailable as exc:
            if self.spool is None:
                raise
            log.warning("settle of %s spooled: %s", generation_id, exc)
            self.spool.write(call_keys, args)

    async def replay(self, call_keys: list[str], args: list[Arg]) -> None:
        """Run a spooled settle; raises RedisUnavailable if Redis is still away."""
        await self._settle(keys=call_keys, args=args)


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
