"""The Django side's Redis connection (catalog and key publishing, metering, live stats).

With `REDIS_CLUSTER=1` it is a redis-py RedisCluster: every command and script the Django
side sends names keys of one hash slot (config/gateway_state.py), so it routes like a single
server's, and pipelines of single-key commands are split by node.
"""

from functools import cache
from typing import cast

import redis
from django.conf import settings


@cache
def _client(url: str, cluster: bool) -> redis.Redis:
    if cluster:
        # Typed as redis.Redis: the callers use only commands both clients have.
        return cast(redis.Redis, redis.RedisCluster.from_url(url, socket_timeout=5))
    return redis.Redis.from_url(url, socket_timeout=5, health_check_interval=30)


def get_redis() -> redis.Redis:
    return _client(settings.REDIS_URL, getattr(settings, "REDIS_CLUSTER", False))
