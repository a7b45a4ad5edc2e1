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
from gateway.classifier import CATEGORIES
from rankings.buckets import BUCKETS
from rankings.categories import daily_tokens_by_category
from rankings.dates import window
from rankings.models import App, AppDaily, ContextBucketDaily, ModelDaily

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
# rankings-daily filters (the reference's values). `category` and `language_type` count the
# generations whose prompts were classified (accounts with prompt logging on); `context_bucket`
# buckets requests by prompt size; `modality` keeps the models the catalog lists with it.
MODALITIES = ["text", "image", "image_output", "audio", "tool_calling"]
DAILY_CATEGORIES = ["programming", "roleplay", "marketing", "marketing/seo", "technology",
                    "science", "translation", "legal", "finance", "health", "trivia", "academia"]
LANGUAGE_TYPES = ["natural", "programming"]


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


def modality_models(modality: str) -> set[str]:
    """The catalog's models that take or produce this modality (or call tools)."""
    from marketplace.models import Model

    models = Model.objects.all()
    if modality == "text":
        models = models.filter(output_modalities__contains=["text"])
    elif modality == "image":
        models = models.filter(input_modalities__contains=["image"])
    elif modality == "image_output":
        models = models.filter(output_modalities__contains=["image"])
    elif modality == "audio":
        models = models.filter(Q(input_modalities__contains=["audio"])
                               | Q(output_modalities__contains=["audio"]))
    else:
        models = models.filter(supported_parameters__contains=["tools"])
    return set(models.values_list("model_id", flat=True))


def classified_categories(category: str | None, language_type: str | None) -> list[str]:
    """The classifier's categories a `category` / `language_type` pair selects."""
    chosen = set(CATEGORIES)
    if category is not None:
        # Reference values the classifier has no category for select nothing.
        chosen &= {category}
    if language_type == "programming":
        chosen &= {"programming"}
    elif language_type == "natural":
        chosen -= {"programming"}
    return sorted(chosen)


def daily_rows(start: date, end: date, *, modality: str | None, context_bucket: str | None,
               categories: list[str] | None) -> list[tuple[date, str, int]]:
    """(day, model, tokens) in the window, narrowed by the filters."""
    rows: list[tuple[date, str, int]]
    if categories is not None:
        rows = daily_tokens_by_category(start, end, categories)
    elif context_bucket is not None:
        rows = list(ContextBucketDaily.objects.filter(
            day__gte=start, day__lte=end, bucket=context_bucket).values_list(
            "day", "model", "tokens"))
    else:
        rows = list(ModelDaily.objects.filter(day__gte=start, day__lte=end).values_list(
            "day", "model", "tokens"))
    if modality is not None:
        keep = modality_models(modality)
        rows = [row for row in rows if row[1] in keep]
    return rows


def rankings_daily(period: str, rows: list[tuple[date, str, int]]) -> list[dict[str, Any]]:
    """Top 50 models per bucket by tokens, then one `other` row per bucket."""
    tokens: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, model, count in rows:
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
        period = _choice(request, "period", ["day", "week", "month"], "day") or "day"
        modality = _choice(request, "modality", MODALITIES, None)
        context_bucket = _choice(request, "context_bucket", BUCKETS, None)
        category = _choice(request, "category", DAILY_CATEGORIES, None)
        language_type = _choice(request, "language_type", LANGUAGE_TYPES, None)
        start, end = window(request.query_params.get("start_date"),
                            request.query_params.get("end_date"))
        categories = None
        if category is not None or language_type is not None:
            if context_bucket is not None:
                # Prompt sizes and prompt categories are counted apart: no table holds both.
                raise ApiError(400, "context_bucket cannot be combined with category or "
                                    "language_type")
            categories = classified_categories(category, language_type)
        rows = daily_rows(start, end, modality=modality, context_bucket=context_bucket,
                          categories=categories)
        return Response({"data": rankings_daily(period, rows), "meta": _meta(start, end)})


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
