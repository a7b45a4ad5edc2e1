"""/activity: the signed-in account's usage dashboard, generation log, details and CSV."""

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import ApiKey
from rankings.models import AccountDailyUsage
from rankings.seed import is_synthetic
from usage import content, feedback
from usage.activity import Filters, dashboard, generations
from usage.models import Generation

DEFAULT_DAYS = 30
MAX_DAYS = 366
LOG_PAGE = 50


def _uid(request: HttpRequest) -> int:
    assert request.user.pk is not None
    return int(request.user.pk)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_of(request: HttpRequest) -> Filters:
    """The filters in the query string; a malformed value is ignored, never an error page."""
    today = datetime.now(UTC).date()
    end = _day(request.GET.get("end")) or today
    start = _day(request.GET.get("start")) or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_DAYS - 1))
    key = request.GET.get("key", "")
    return Filters(
        start=start, end=end, model=request.GET.get("model", "")[:200],
        provider=request.GET.get("provider", "")[:100],
        key_id=int(key) if key.isdigit() else None, app=request.GET.get("app", "")[:300],
    )


@login_required
def activity_page(request: HttpRequest) -> HttpResponse:
    user_id = _uid(request)
    filters = filters_of(request)
    board = dashboard(user_id, filters)
    page = max(1, int(request.GET["page"])) if request.GET.get("page", "").isdigit() else 1
    rows = list(generations(user_id, filters)[(page - 1) * LOG_PAGE: page * LOG_PAGE + 1])
    has_data = AccountDailyUsage.objects.filter(user_id=user_id).exists()
    options = {
        "models": sorted({r["value"] for r in board.breakdowns["model"]} | {filters.model} - {""}),
        "providers": sorted({r["value"] for r in board.breakdowns["provider"]}
                            | {filters.provider} - {""}),
        "keys": list(ApiKey.objects.filter(user_id=user_id).values_list("pk", "name")),
        "apps": [(r["value"], r["label"]) for r in board.breakdowns["app"] if r["value"]],
    }
    query = filters.as_query()
    return render(request, "usage/activity.html", {
        "filters": filters,
        "board": board,
        "chart": {"days": board.days, "spend": board.spend, "tokens": board.tokens,
                  "requests": board.requests},
        "log": rows[:LOG_PAGE],
        "page": page,
        "has_next": len(rows) > LOG_PAGE,
        "query": "&".join(f"{k}={v}" for k, v in query.items()),
        "query_dict": query,
        "options": options,
        "has_data": has_data,
        "synthetic": is_synthetic(),
    })


def _csv_rows(rows: Iterator[Generation]) -> Iterator[list[object]]:
    yield ["id", "created_at", "model", "provider", "app", "api_key_id", "status",
           "finish_reason", "tokens_prompt", "tokens_completion", "tokens_reasoning",
           "tokens_cached", "cost_usd", "latency_ms", "ttft_ms", "throughput", "byok_usage_usd"]
    for g in rows:
        yield [g.id, g.created_at.isoformat(), g.model, g.provider, g.http_referer,
               g.key_id or "", g.status, g.finish_reason, g.tokens_prompt, g.tokens_completion,
               g.tokens_reasoning, g.tokens_cached, g.cost, g.latency_ms or "",
               g.ttft_ms or "", g.throughput or "", g.byok_usage]


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def activity_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every generation in the filtered window, streamed (no page of it held in memory)."""
    filters = filters_of(request)
    writer = csv.writer(_Echo())
    rows = generations(_uid(request), filters).iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(rows)), content_type="text/csv"
    )
    name = f"activity-{filters.start}-{filters.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def generation_page(request: HttpRequest, generation_id: str) -> HttpResponse:
    generation = Generation.objects.filter(pk=generation_id, user_id=_uid(request)).first()
    if generation is None:
        raise Http404("No such generation on this account")
    stored = content.content_of(generation.id, _uid(request))
    return render(request, "usage/generation.html", {
        "g": generation,
        "categories": feedback.CATEGORIES,
        "feedback": feedback.existing(generation.id, _uid(request)),
        "content": None if stored is None else content.for_page(stored),
        "content_days": settings.GENERATION_CONTENT_DAYS,
    })


@login_required
@require_POST
def generation_feedback(request: HttpRequest, generation_id: str) -> HttpResponse:
    generation = Generation.objects.filter(pk=generation_id, user_id=_uid(request)).first()
    if generation is None:
        raise Http404("No such generation on this account")
    try:
        feedback.record(generation, request.POST.get("category", ""),
                        request.POST.get("comment", ""))
    except feedback.InvalidFeedback as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Thanks: your feedback counts in this provider's quality panel.")
    return redirect("usage-generation", generation_id=generation.id)
