"""What /rankings, the home page and model pages show, read from the snapshots only."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.paginator import Page, Paginator

from rankings.categories import category_mix
from rankings.models import AppRanking, ModelApp, ModelDaily, ModelQuality, ModelRanking, Snapshot
from rankings.seed import is_synthetic

PERIODS = {"day": "Today", "week": "This week", "month": "This month"}
PAGE_SIZE = 25
MAX_PAGE = 1000  # a bound on the cached pages (a page number past the end shows the last)


def snapshot(name: str) -> Any:
    row = Snapshot.objects.filter(name=name).first()
    return row.data if row else None


@dataclass
class Change:
    arrow: str  # "up", "down", "new", ""
    places: int


def change_of(row: ModelRanking) -> Change:
    if row.previous_rank is None:
        return Change("new", 0)
    if row.previous_rank > row.rank:
        return Change("up", row.previous_rank - row.rank)
    if row.previous_rank < row.rank:
        return Change("down", row.rank - row.previous_rank)
    return Change("", 0)


def leaderboard(period: str, page_number: int) -> Page:
    rows = ModelRanking.objects.filter(period=period).order_by("rank")
    page = compact(Paginator(rows, PAGE_SIZE).get_page(page_number))
    for row in page.object_list:
        row.change = change_of(row)
    return page


def compact(page: Page) -> Page:
    """The same page holding only its own rows: cached, it must not carry every row of the
    list it pages through (its paginator counts a range instead)."""
    paginator = Paginator(range(page.paginator.count), page.paginator.per_page)
    return Page(list(page.object_list), page.number, paginator)


def top_apps(period: str = "week", count: int = 10) -> list[AppRanking]:
    return list(AppRanking.objects.filter(period=period, app__hidden=False)
                .select_related("app").order_by("rank")[:count])


def rankings_context(period: str, page_number: int) -> dict[str, Any]:
    """/rankings: everything in it changes only when refresh_rankings runs (or an app is
    hidden), so it is cached under the rankings version, per period and page."""
    period = period if period in PERIODS else "week"
    page_number = min(max(page_number, 1), MAX_PAGE)
    return cached(f"rankings:{period}:{page_number}",
                  lambda: _rankings_context(period, page_number))


def _rankings_context(period: str, page_number: int) -> dict[str, Any]:
    categories = snapshot("categories") or {}
    app_ids = {a["app"] for c in categories.values() for a in c["apps"]}
    from rankings.models import App

    names = {a.pk: a for a in App.objects.filter(pk__in=app_ids, hidden=False)}
    for values in categories.values():
        values["apps"] = [dict(a, app=names[a["app"]]) for a in values["apps"]
                          if a["app"] in names]
    return {
        "period": period,
        "periods": PERIODS,
        "board": leaderboard(period, page_number),
        "weekly_models": snapshot("weekly_models"),
        "weekly_authors": snapshot("weekly_authors"),
        "weekly_open_closed": snapshot("weekly_open_closed"),
        "top_apps": top_apps(period),
        "categories": dict(sorted(categories.items())),
        "refreshed": snapshot("refreshed"),
        "synthetic": is_synthetic(),
    }


def _weekly_tokens() -> dict[str, int]:
    return dict(ModelRanking.objects.filter(period="week").values_list("model", "tokens"))


# The home page and model pages are served from the catalog without SQL; their rankings parts
# come from the cache, under a version that each refresh_rankings run replaces. Before any
# refresh has published a version there is nothing ranked to show.
VERSION_KEY = "rankings:version"


def publish_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def cached(name: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A page's data that only refresh_rankings changes: built once per rankings version."""
    return _cached(name, build, None)


def _cached(
    name: str, build: Callable[[], dict[str, Any]], empty: dict[str, Any] | None
) -> dict[str, Any]:
    """`build()` cached under the current version; before any version, `empty` (or `build()`
    itself when `empty` is None)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        return build() if empty is None else empty
    key = f"rankings:{version}:{name}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, 24 * 3600)
    return value


def home_context() -> dict[str, Any]:
    empty: dict[str, Any] = {"trending_usage": [], "top_apps": [], "synthetic": False}
    return _cached("home", _home_context, empty)


def model_context(model_id: str) -> dict[str, Any]:
    empty: dict[str, Any] = {"usage_daily": None, "model_apps": [], "quality": [],
                             "category_mix": {},
                             "usage_synthetic": False}
    return _cached(f"model:{model_id}", lambda: _model_context(model_id), empty)


def weekly_tokens() -> dict[str, int]:
    """Tokens per model over the last 7 days (the catalog's popularity order)."""
    return _cached("weekly_tokens", _weekly_tokens, {})


def _home_context() -> dict[str, Any]:
    """Trending models and top apps for the home page; empty lists on a fresh instance."""
    return {
        "trending_usage": (snapshot("trending") or [])[:6],
        "top_apps": top_apps("week", 6),
        "synthetic": is_synthetic(),
    }


def _model_context(model_id: str) -> dict[str, Any]:
    """A model page's usage chart, the apps using it and its quality panel."""
    daily = list(ModelDaily.objects.filter(model=model_id).order_by("day")
                 .values_list("day", "tokens")[:400])
    quality = []
    for row in ModelQuality.objects.filter(model=model_id).order_by("-requests"):
        share = {name: getattr(row, name) / row.requests if row.requests else 0 for name in
                 ("errors", "finish_length", "finish_content_filter", "finish_tool_calls")}
        quality.append({"row": row, "share": share})
    return {
        "usage_daily": {"days": [d.isoformat() for d, _ in daily],
                        "values": [t for _, t in daily]} if daily else None,
        "model_apps": list(ModelApp.objects.filter(model=model_id, app__hidden=False)
                           .select_related("app").order_by("rank")[:10]),
        "quality": quality,
        "usage_synthetic": is_synthetic(),
        "category_mix": category_mix(model_id),
    }
