"""Release the reservations of requests whose gateway died (docs/gateway-state.md, "Holds").

The gateway records every reservation in its shard's sorted set `gw:{s<k>}:holds` (score =
deadline, unix seconds by the Redis clock) in the same script that reserves it, and removes the
record in the same script that settles it. A record still there after its deadline belongs to a
request that can no longer settle (its gateway process was killed), so its amount is given
back here.
"""

from dataclasses import dataclass

import redis

from config import gateway_state

# Records popped per script call: each call blocks Redis while it runs, so keep it short.
BATCH = 500

# Pops expired records and releases each one's amount on its account and key usage. It runs
# in one atomic step with the settle script's ZREM, so a hold is released by exactly one of
# them: whoever removes the record releases the amount. Account and usage keys are read from
# the members (not declared in KEYS): they carry the same hash tag as the holds set, so on a
# Redis Cluster they live in the slot the script runs on.
RELEASE_EXPIRED = """
local now = redis.call('TIME')
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now[1] + now[2] / 1e6,
                           'LIMIT', 0, tonumber(ARGV[1]))
local released = 0
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[1], member)
  local _, amount, usage, account = string.match(member, '^([^|]*)|(%d+)|([^|]*)|(.+)$')
  amount = tonumber(amount)
  if amount and amount > 0 then
    for _, key in ipairs({account, usage}) do
      -- Never below zero: a counter rebuilt since the hold was made must not turn negative
      -- (a negative `reserved` would hand out credit nobody paid for).
      local held = tonumber(redis.call('HGET', key, 'reserved')) or 0
      local give = math.min(amount, math.max(held, 0))
      if give > 0 then redis.call('HINCRBY', key, 'reserved', -give) end
    end
    released = released + amount
  end
end
return {#expired, released}
"""


@dataclass(frozen=True)
class Released:
    holds: int = 0
    nanos: int = 0


def release_expired(client: redis.Redis, batch: int = BATCH) -> Released:
    """Release every hold past its deadline, shard by shard; safe to run at any time, any number
    of times."""
    script = client.register_script(RELEASE_EXPIRED)
    holds = nanos = 0
    for key in gateway_state.all_holds():
        while True:
            count, amount = script(keys=[key], args=[batch])
            holds += int(count)
            nanos += int(amount)
            if int(count) < batch:
                break
    return Released(holds, nanos)
