"""Free-model limits (reference §7.1): per account, 20 requests a minute and 50 a UTC day, or
1,000 a day once the account has bought at least $10 of credits.

One Lua script checks both windows and counts the request in the same step, so concurrent
requests on any number of gateway workers are admitted exactly up to the limit. The minute is
a sliding window (a sorted set of request times, by the Redis clock), so no burst straddling
a minute boundary doubles it; the day is a counter per UTC day. The keys live in the account's
shard (`gateway/keys.py`), with the account hash whose `purchased` decides the daily limit.
"""

import time
from datetime import UTC, datetime

from gateway import keys
from gateway.catalog import Endpoint, Model
from gateway.errors import GatewayError
from gateway.redis_client import Redis

FREE_MODEL_RATE_LIMIT_RPM = 20
FREE_MODEL_NO_CREDITS_RPD = 50
FREE_MODEL_HAS_CREDITS_RPD = 1000
FREE_MODEL_CREDITS_THRESHOLD_NANOS = 10 * 1_000_000_000

# KEYS: account, minute set, day counter. ARGV: member, rpm, rpd without / with credits,
# threshold (nano-dollars). Returns {admitted, limit name, limit, remaining, reset ms}.
ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local purchased = tonumber(redis.call('HGET', KEYS[1], 'purchased') or '0') or 0
local high = purchased >= tonumber(ARGV[5])
local rpd = high and tonumber(ARGV[4]) or tonumber(ARGV[3])
local rpm = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
local minute = redis.call('ZCARD', KEYS[2])
local day = tonumber(redis.call('GET', KEYS[3]) or '0')
local day_end = (math.floor(now / 86400000) + 1) * 86400000
if day >= rpd then
  return {0, high and 'free-models-per-day-high-balance' or 'free-models-per-day', rpd, 0, day_end}
end
if minute >= rpm then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {0, 'free-models-per-min', rpm, 0, tonumber(oldest[2]) + 60000}
end
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], 61000)
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 2 * 86400)
return {1, 'ok', rpd, rpd - day - 1, day_end}
"""


class RateLimited(GatewayError):
    """A 429 from a platform limit: the only response that carries X-RateLimit-* headers."""

    def __init__(self, message: str, limit: int, reset_ms: int, bucket: str) -> None:
        retry = max(1, -(-(reset_ms - int(time.time() * 1000)) // 1000))
        self.limit = limit
        self.reset_ms = reset_ms
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": str(reset_ms)}
        super().__init__(429, message, {"error_type": "rate_limit_exceeded",
                                        "limit": bucket, "headers": headers},
                         retry_after=retry)

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [*super().headers(),
                (b"x-ratelimit-limit", str(self.limit).encode()),
                (b"x-ratelimit-remaining", b"0"),
                (b"x-ratelimit-reset", str(self.reset_ms).encode())]


def _message(bucket: str, limit: int) -> str:
    if bucket == "free-models-per-min":
        return (f"Rate limit exceeded: {bucket}. Free models allow {limit} requests per minute; "
                "retry after the time in Retry-After, or use the paid variant of the model "
                "(no request limit).")
    if bucket == "free-models-per-day":
        return (f"Rate limit exceeded: {bucket}. Free models allow {limit} requests per day; "
                f"add {FREE_MODEL_CREDITS_THRESHOLD_NANOS // 10**9} credits to unlock "
                f"{FREE_MODEL_HAS_CREDITS_RPD} free model requests per day, or use the paid "
                "variant. The count resets at 00:00 UTC.")
    return (f"Rate limit exceeded: {bucket}. Free models allow {limit} requests per day; the "
            "count resets at 00:00 UTC. Use the paid variant of the model for more.")


Attempt = tuple[Model, str | None, list[Endpoint]]


class FreeLimits:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._admit = redis.register_script(ADMIT)

    async def admit(self, user_id: str, request_id: str, plan: list[Attempt]) -> list[Attempt]:
        """Count the request against the free limits if it would start on a free model. Over a
        limit, the free models drop out of a `models` list; with nothing left, a 429."""
        if not plan or plan[0][1] != "free":
            return plan
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        ok, bucket, limit, _, reset = await self._admit(
            keys=[keys.account(user_id), keys.free_minute(user_id),
                  keys.free_day(user_id, day)],
            args=[request_id, FREE_MODEL_RATE_LIMIT_RPM, FREE_MODEL_NO_CREDITS_RPD,
                  FREE_MODEL_HAS_CREDITS_RPD, FREE_MODEL_CREDITS_THRESHOLD_NANOS],
        )
        if int(ok) == 1:
            return plan
        rest = [a for a in plan if a[1] != "free"]
        if rest:
            return rest
        name = bucket.decode() if isinstance(bucket, bytes) else str(bucket)
        raise RateLimited(_message(name, int(limit)), int(limit), int(reset), name)
