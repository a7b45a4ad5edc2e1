"""GET /healthz: is the web process able to reach its database and Redis?"""

from django.db import connection
from django.http import HttpRequest, JsonResponse

from config.redis import get_redis


def _check(probe: object) -> str:
    try:
        probe()  # type: ignore[operator]
    except Exception as exc:  # any failure means unhealthy; the reason is reported
        return f"error: {exc.__class__.__name__}: {exc}"
    return "ok"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("select 1")


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check(_database), "redis": _check(get_redis().ping)}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
