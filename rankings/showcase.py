"""The app showcase: /apps (search, sort, pages) and /apps/<id>, from the snapshots."""

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from rankings.favicons import apps_with_icons
from rankings.leaderboards import MAX_PAGE, cached, compact
from rankings.models import AccountDailyUsage, App, AppDaily, AppRanking, ModelApp
from rankings.seed import is_synthetic

SORTS = {"tokens": "Most tokens", "trending": "Trending", "new": "Newest"}
PAGE_SIZE = 24
COLORS = ["#6366f1", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#ec4899", "#14b8a6"]


def color_of(app: App) -> str:
    """The generated icon's color: stable per app (favicons are fetched by a job, favicons.py)."""
    return COLORS[app.pk % len(COLORS)]


def apps_page(query: str, sort: str, page_number: int) -> dict[str, Any]:
    """/apps; without a search it only changes when refresh_rankings runs (or an app is
    edited), so it is cached under the rankings version, per sort and page."""
    sort = sort if sort in SORTS else "tokens"
    page_number = min(max(page_number, 1), MAX_PAGE)
    if query:
        return _apps_page(query, sort, page_number)
    return cached(f"apps:{sort}:{page_number}", lambda: _apps_page("", sort, page_number))


def _apps_page(query: str, sort: str, page_number: int) -> dict[str, Any]:
    rows: QuerySet[AppRanking] = AppRanking.objects.filter(
        period="month", app__hidden=False).select_related("app")
    if query:
        rows = rows.filter(Q(app__title__icontains=query) | Q(app__origin__icontains=query)
                           | Q(app__description__icontains=query))
    rows = rows.order_by("-app__first_seen", "rank") if sort == "new" else rows.order_by("rank")
    if sort == "trending":
        # Growth needs every row; new apps (no previous period) first, then by growth.
        everything = list(rows)
        everything.sort(key=lambda r: -_growth(r))
        page: Page = compact(Paginator(everything, PAGE_SIZE).get_page(page_number))
    else:
        page = compact(Paginator(rows, PAGE_SIZE).get_page(page_number))
    with_icons = apps_with_icons([row.app_id for row in page.object_list])
    for row in page.object_list:
        row.trend = _trend(row)
        row.color = color_of(row.app)
        row.has_icon = row.app_id in with_icons
    return {"page": page, "query": query, "sort": sort, "sorts": SORTS,
            "synthetic": is_synthetic()}


def _growth(row: AppRanking) -> float:
    trend = _trend(row)
    return 10.0 if trend is None else trend


def _trend(row: AppRanking) -> float | None:
    """Growth over the previous 30 days; None for an app new in this period."""
    if not row.previous_tokens:
        return None
    return (row.tokens - row.previous_tokens) / row.previous_tokens


def app_page(app: App) -> dict[str, Any]:
    """/apps/<id>: the app itself as it is now, its usage as refresh_rankings last computed
    it (cached under the rankings version)."""
    usage = cached(f"app:{app.pk}", lambda: _app_usage(app))
    return usage | {
        "app": app,
        "color": color_of(app),
        # A hidden app's icon is not served (its owner still sees the page): the initial.
        "has_icon": not app.hidden and usage["icon_stored"],
    }


def _app_usage(app: App) -> dict[str, Any]:
    daily = list(AppDaily.objects.filter(app=app.origin).order_by("day")
                 .values_list("day", "tokens"))
    ranking = AppRanking.objects.filter(period="month", app=app).first()
    models = ModelApp.objects.filter(app=app).order_by("-tokens")[:15]
    return {
        "icon_stored": bool(apps_with_icons([app.pk])),
        "ranking": ranking,
        "usage_daily": {"days": [d.isoformat() for d, _ in daily],
                        "values": [t for _, t in daily]} if daily else None,
        "models": list(models),
        "synthetic": is_synthetic(),
    }


def owns(app: App, user_id: int | None) -> bool:
    """The app's owner is an account whose keys send its traffic."""
    return user_id is not None and AccountDailyUsage.objects.filter(
        user_id=user_id, app=app.origin).exists()
