"""Free-model request counts of an account, as the gateway counts them (gateway/ratelimit.py):
20 requests in any 60 seconds, and 50 per UTC day, or 1,000 once the account has bought at
least $10 of credits. Read from the gateway's counters in Redis, never estimated."""

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import redis

from config import gateway_state
from config.redis import get_redis

FREE_MODEL_RATE_LIMIT_RPM = 20
FREE_MODEL_CREDITS_THRESHOLD = Decimal(10)
FREE_MODEL_NO_CREDITS_RPD = 50
FREE_MODEL_HAS_CREDITS_RPD = 1000


def free_requests(user_id: int, purchased: Decimal) -> dict[str, Any]:
    """`{"limit", "remaining", "used"}` for the day and for the last minute; used counts are
    None when Redis cannot be reached (the limits still stand)."""
    daily = (FREE_MODEL_HAS_CREDITS_RPD if purchased >= FREE_MODEL_CREDITS_THRESHOLD
             else FREE_MODEL_NO_CREDITS_RPD)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    now_ms = int(time.time() * 1000)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.get(gateway_state.free_day(user_id, day))
        pipe.zcount(gateway_state.free_minute(user_id), now_ms - 60_000, "+inf")
        used_day_raw, used_minute = pipe.execute()
        used_day: int | None = int(used_day_raw or 0)
    except redis.RedisError:
        used_day = used_minute = None

    def window(limit: int, used: int | None) -> dict[str, Any]:
        remaining = None if used is None else max(limit - used, 0)
        return {"limit": limit, "remaining": remaining, "used": used}

    return {"daily": window(daily, used_day),
            "minute": window(FREE_MODEL_RATE_LIMIT_RPM, used_minute)}
