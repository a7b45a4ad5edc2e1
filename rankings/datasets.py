"""GET /api/v1/datasets/rankings-daily and /datasets/app-rankings, from the snapshots."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Q, Sum
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiKeyAuthentication
from accounts.permissions import HasApiKey
from config.api_errors import ApiError
from rankings.dates import window
from rankings.models import App, AppDaily, ModelDaily

TOP_MODELS = 50
# The reference's app category groups and the values each one holds.
APP_CATEGORIES = {
    "coding": ["cli-agent", "ide-extension", "cloud-agent", "programming-app",
               "native-app-builder"],
    "creative": ["creative-writing", "video-gen", "image-gen", "audio-gen"],
    "productivity": ["writing-assistant", "general-chat", "personal-agent", "legal"],
    "entertainment": ["roleplay", "game"],
}
SUBCATEGORIES = [value for values in APP_CATEGORIES.values() for value in values]
# Filters of rankings-daily that describe requests the rollups do not classify: refusing
# them is honest, answering unfiltered numbers would not be.
UNSUPPORTED_DAILY_FILTERS = ["modality", "context_bucket", "category", "language_type"]


def _meta(start: date, end: date) -> dict[str, str]:
    return {
        "as_of": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "version": "v1",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
    }


def _choice(request: Request, name: str, allowed: list[str], default: str | None) -> str | None:
    value = request.query_params.get(name) or default
    if value is not None and value not in allowed:
        raise ApiError(400, f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}, got {value}")
    return value


def _bucket(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def rankings_daily(start: date, end: date, period: str) -> list[dict[str, Any]]:
    """Top 50 models per bucket by tokens, then one `other` row per bucket."""
    tokens: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, model, count in ModelDaily.objects.filter(day__gte=start, day__lte=end).values_list(
        "day", "model", "tokens"
    ):
        tokens[_bucket(day, period)][model] += count
    data = []
    for bucket in sorted(tokens):
        ranked = sorted(tokens[bucket].items(), key=lambda item: (-item[1], item[0]))
        for model, count in ranked[:TOP_MODELS]:
            data.append({"date": bucket.isoformat(), "model_permaslug": model,
                         "total_tokens": str(count)})
        rest = sum(count for _, count in ranked[TOP_MODELS:])
        if rest:
            data.append({"date": bucket.isoformat(), "model_permaslug": "other",
                         "total_tokens": str(rest)})
    return data


def app_rankings(start: date, end: date, *, categories: list[str] | None, sort: str,
                 limit: int, offset: int) -> list[dict[str, Any]]:
    """Public apps by tokens in the window; `trending` ranks by growth of the window's second
    half over its first half."""
    apps = App.objects.filter(hidden=False)
    if categories:
        apps = apps.filter(categories__overlap=categories)
    middle = start + (end - start) / 2
    totals = (
        AppDaily.objects.filter(day__gte=start, day__lte=end, app__in=apps.values("origin"))
        .values("app")
        .annotate(
            total_tokens=Sum("tokens"),
            total_requests=Sum("requests"),
            late=Sum("tokens", filter=Q(day__gt=middle)),
            early=Sum("tokens", filter=Q(day__lte=middle)),
        )
    )
    rows = list(totals)
    if sort == "trending":
        rows.sort(key=lambda r: (-((r["late"] or 0) - (r["early"] or 0)), r["app"]))
    else:
        rows.sort(key=lambda r: (-r["total_tokens"], r["app"]))
    page = rows[offset:offset + limit]
    by_origin = {a.origin: a for a in App.objects.filter(origin__in=[r["app"] for r in page])}
    return [
        {"rank": offset + n + 1, "app_id": by_origin[r["app"]].pk,
         "app_name": by_origin[r["app"]].name, "total_tokens": str(r["total_tokens"]),
         "total_requests": r["total_requests"]}
        for n, r in enumerate(page)
    ]


class RankingsDailyView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def get(self, request: Request) -> Response:
        for name in UNSUPPORTED_DAILY_FILTERS:
            if request.query_params.get(name):
                raise ApiError(400, f"filtering rankings-daily by {name} is not supported")
        period = _choice(request, "period", ["day", "week", "month"], "day") or "day"
        start, end = window(request.query_params.get("start_date"),
                            request.query_params.get("end_date"))
        return Response({"data": rankings_daily(start, end, period), "meta": _meta(start, end)})


class AppRankingsView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def get(self, request: Request) -> Response:
        category = _choice(request, "category", list(APP_CATEGORIES), None)
        subcategory = _choice(request, "subcategory", SUBCATEGORIES, None)
        sort = _choice(request, "sort", ["popular", "trending"], "popular") or "popular"
        limit = _int(request, "limit", 50, 1, 100)
        offset = _int(request, "offset", 0, 0, 100)
        start, end = window(request.query_params.get("start_date"),
                            request.query_params.get("end_date"))
        categories = [subcategory] if subcategory else APP_CATEGORIES.get(category or "")
        data = app_rankings(start, end, categories=categories, sort=sort, limit=limit,
                            offset=offset)
        return Response({"data": data, "meta": _meta(start, end)})
