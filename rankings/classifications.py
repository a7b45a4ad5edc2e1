"""GET /api/v1/classifications/task?window=7d: task-type market shares, with its rate limits."""

from datetime import UTC, datetime

from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.permissions import HasApiKey, request_key
from config.api_errors import ApiError
from config.redis import get_redis
from rankings.categories import task_shares

WINDOWS = {"7d": 7}  # the reference's only window
PER_KEY_PER_MINUTE = 30
PER_ACCOUNT_PER_DAY = 500
CACHE_SECONDS = 60  # the shares move by the day; one computation serves everyone a minute


def _count(name: str, seconds: int) -> int:
    pipe = get_redis().pipeline()
    pipe.set(name, 0, ex=seconds, nx=True)  # the window starts with its first request
    pipe.incr(name)
    return int(pipe.execute()[1])


def check_limits(key_id: int, user_id: int, now: datetime) -> None:
    """30 requests a minute per key, 500 a day per account (429 with Retry-After)."""
    minute = int(now.timestamp()) // 60
    if _count(f"web:classifications:key:{key_id}:{minute}", 120) > PER_KEY_PER_MINUTE:
        raise exceptions.Throttled(wait=60 - now.second,
                                   detail="Rate limit exceeded: 30 requests per minute per key")
    day = now.date().isoformat()
    if _count(f"web:classifications:user:{user_id}:{day}", 2 * 86400) > PER_ACCOUNT_PER_DAY:
        seconds_left = 86400 - (now.hour * 3600 + now.minute * 60 + now.second)
        raise exceptions.Throttled(
            wait=seconds_left, detail="Rate limit exceeded: 500 requests per day per account")


class TaskClassificationsView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def get(self, request: Request) -> Response:
        window = request.query_params.get("window", "7d")
        if window not in WINDOWS:
            raise ApiError(400, f"window must be one of {', '.join(WINDOWS)}; got {window!r}")
        key = request_key(request)
        now = datetime.now(UTC)
        check_limits(key.pk, key.user_id, now)
        name = f"rankings:classifications:{window}"
        data = cache.get(name)
        if data is None:
            data = task_shares(now, WINDOWS[window])
            cache.set(name, data, CACHE_SECONDS)
        return Response({"data": data})
