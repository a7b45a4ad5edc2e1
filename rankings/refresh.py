"""refresh_rankings: the hourly rollups into the snapshots the pages read.

Every job recomputes its snapshot from the rollups and replaces it in one transaction, so a
job is idempotent (running it twice changes nothing) and late rows are picked up by the next
run. Pages never scan raw generations.
"""

import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction

from rankings.buckets import refresh_context_buckets
from rankings.models import Snapshot

# Rolling windows ending now: (period, length); "all" compares with nothing.
PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
CHART_WEEKS = 12
CHART_MODELS = 10
CHART_AUTHORS = 8
TRENDING_DAYS = 3
# A model must have at least this share of recent tokens to be "trending": a model going from
# 10 tokens to 1,000 is not news.
TRENDING_FLOOR = 0.002


def _run(sql: str, params: dict[str, Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})


def _rows(sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def refresh_daily() -> None:
    """Per model and per app, per UTC day (the charts and rankings-daily)."""
    _run("DELETE FROM rankings_modeldaily")
    _run(
        "INSERT INTO rankings_modeldaily (day, model, tokens, requests, cost)"
        " SELECT (hour AT TIME ZONE 'UTC')::date, model, sum(tokens_prompt + tokens_completion),"
        " sum(requests), sum(cost)"
        " FROM rankings_hourlyusage GROUP BY 1, 2"
    )
    _run("DELETE FROM rankings_appdaily")
    _run(
        "INSERT INTO rankings_appdaily (day, app, tokens, requests)"
        " SELECT (hour AT TIME ZONE 'UTC')::date, app, sum(tokens_prompt + tokens_completion),"
        " sum(requests)"
        " FROM rankings_hourlyusage WHERE app <> '' GROUP BY 1, 2"
    )


_MODEL_RANKING = """
WITH cur AS (
    SELECT model, sum(tokens_prompt + tokens_completion) AS tokens, sum(cost) AS cost,
        sum(requests) AS requests,
        count(DISTINCT user_id) FILTER (WHERE user_id <> 0) AS accounts,
        count(DISTINCT app) FILTER (WHERE app <> '') AS apps
    FROM rankings_hourlyusage WHERE hour >= %(start)s AND hour < %(end)s GROUP BY model
), prev AS (
    SELECT model, sum(tokens_prompt + tokens_completion) AS tokens,
        rank() OVER (ORDER BY sum(tokens_prompt + tokens_completion) DESC) AS rank
    FROM rankings_hourlyusage WHERE hour >= %(prev)s AND hour < %(start)s GROUP BY model
), cur_users AS (
    SELECT DISTINCT model, user_id FROM rankings_hourlyusage
    WHERE hour >= %(start)s AND hour < %(end)s AND user_id <> 0
), prev_users AS (
    SELECT DISTINCT model, user_id FROM rankings_hourlyusage
    WHERE hour >= %(prev)s AND hour < %(start)s AND user_id <> 0
), retention AS (
    SELECT p.model, count(c.user_id)::float / count(*) AS retention
    FROM prev_users p LEFT JOIN cur_users c USING (model, user_id) GROUP BY p.model
)
INSERT INTO rankings_modelranking (period, rank, model, tokens, cost, requests,
    previous_tokens, previous_rank, accounts, apps, retention)
SELECT %(period)s, row_number() OVER (ORDER BY cur.tokens DESC, cur.model), cur.model,
    cur.tokens, cur.cost, cur.requests, prev.tokens, prev.rank, cur.accounts, cur.apps,
    retention.retention
FROM cur LEFT JOIN prev USING (model) LEFT JOIN retention USING (model)
"""

_APP_RANKING = """
WITH cur AS (
    SELECT app, sum(tokens_prompt + tokens_completion) AS tokens, sum(requests) AS requests,
        count(DISTINCT model) AS models_used
    FROM rankings_hourlyusage WHERE hour >= %(start)s AND hour < %(end)s AND app <> ''
    GROUP BY app
), prev AS (
    SELECT app, sum(tokens_prompt + tokens_completion) AS tokens FROM rankings_hourlyusage
    WHERE hour >= %(prev)s AND hour < %(start)s AND app <> '' GROUP BY app
)
INSERT INTO rankings_appranking (period, rank, app_id, tokens, requests, previous_tokens,
    models_used)
SELECT %(period)s, row_number() OVER (ORDER BY cur.tokens DESC, a.id), a.id, cur.tokens,
    cur.requests, prev.tokens, cur.models_used
FROM cur JOIN rankings_app a ON a.origin = cur.app LEFT JOIN prev USING (app)
"""


def _windows(now: datetime) -> dict[str, dict[str, Any]]:
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    windows = {
        period: {"period": period, "start": hour - length, "end": hour, "prev": hour - 2 * length}
        for period, length in PERIODS.items()
    }
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    windows["all"] = {"period": "all", "start": epoch, "end": hour, "prev": epoch}
    return windows


def refresh_leaderboards(now: datetime) -> None:
    """Models and apps per period, with the previous period beside them."""
    _run("DELETE FROM rankings_modelranking")
    _run("DELETE FROM rankings_appranking")
    for params in _windows(now).values():
        _run(_MODEL_RANKING, params)
        _run(_APP_RANKING, params)


def refresh_model_panels(now: datetime) -> None:
    """Per model: the apps using it and the quality panel, over the last 30 days."""
    params = {"start": now - timedelta(days=30)}
    _run("DELETE FROM rankings_modelapp")
    _run(
        "INSERT INTO rankings_modelapp (model, rank, app_id, tokens, requests)"
        " SELECT u.model, row_number() OVER (PARTITION BY u.model"
        " ORDER BY sum(tokens_prompt + tokens_completion) DESC, a.id), a.id,"
        " sum(tokens_prompt + tokens_completion), sum(u.requests)"
        " FROM rankings_hourlyusage u JOIN rankings_app a ON a.origin = u.app"
        " WHERE u.hour >= %(start)s GROUP BY u.model, a.id",
        params,
    )
    _run("DELETE FROM rankings_modelquality")
    _run(
        "INSERT INTO rankings_modelquality (model, provider, requests, errors, finish_length,"
        " finish_content_filter, finish_tool_calls, latency_ms, throughput, feedback)"
        " SELECT model, provider, sum(requests), sum(errors), sum(finish_length),"
        " sum(finish_content_filter), sum(finish_tool_calls),"
        " sum(latency_ms_sum)::float / nullif(sum(latency_count), 0),"
        " sum(throughput_sum) / nullif(sum(throughput_count), 0),"
        " coalesce((SELECT jsonb_object_agg(category, n) FROM (SELECT category, count(*) AS n"
        "   FROM rankings_feedback f WHERE f.model = u.model AND f.provider = u.provider"
        "   AND f.created_at >= %(start)s GROUP BY category) c), '{}'::jsonb)"
        " FROM rankings_hourlyusage u WHERE hour >= %(start)s GROUP BY model, provider",
        params,
    )


def _save(name: str, data: Any, now: datetime) -> None:
    Snapshot.objects.update_or_create(name=name, defaults={"data": data, "computed_at": now})


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def refresh_charts(now: datetime, open_models: set[str]) -> None:
    """Weekly tokens of the top models, author shares, open vs closed, trending, categories."""
    today = now.date()
    first_week = _week_of(today) - timedelta(weeks=CHART_WEEKS - 1)
    daily = _rows(
        "SELECT day, model, tokens, cost FROM rankings_modeldaily WHERE day >= %(first)s",
        {"first": first_week},
    )
    weeks = [(first_week + timedelta(weeks=n)).isoformat() for n in range(CHART_WEEKS)]
    by_model: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {"tokens": [0] * CHART_WEEKS, "cost": [0.0] * CHART_WEEKS}
    )
    for day, model, tokens, cost in daily:
        index = (_week_of(day) - first_week).days // 7
        by_model[model]["tokens"][index] += int(tokens)
        by_model[model]["cost"][index] += float(cost)
    _save("weekly_models", _top_and_others(weeks, by_model, CHART_MODELS), now)
    by_author: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {"tokens": [0] * CHART_WEEKS, "cost": [0.0] * CHART_WEEKS}
    )
    by_weights: dict[str, dict[str, list[float]]] = defaultdict(
        lambda: {"tokens": [0] * CHART_WEEKS, "cost": [0.0] * CHART_WEEKS}
    )
    for model, series in by_model.items():
        author = model.split("/", 1)[0]
        weights = "Open weights" if model in open_models else "Closed"
        for measure in ("tokens", "cost"):
            for index, value in enumerate(series[measure]):
                by_author[author][measure][index] += value
                by_weights[weights][measure][index] += value
    _save("weekly_authors", _top_and_others(weeks, by_author, CHART_AUTHORS), now)
    _save("weekly_open_closed", _top_and_others(weeks, by_weights, 2), now)
    _save("trending", _trending(today), now)
    _save("categories", _categories(now), now)


def _top_and_others(
    weeks: list[str], series: dict[str, dict[str, list[float]]], count: int
) -> dict[str, Any]:
    ranked = sorted(series, key=lambda name: (-sum(series[name]["tokens"]), name))
    top, rest = ranked[:count], ranked[count:]
    lines = [{"name": name, **series[name]} for name in top]
    if rest:
        lines.append({
            "name": "Others",
            "tokens": [sum(series[n]["tokens"][i] for n in rest) for i in range(len(weeks))],
            "cost": [sum(series[n]["cost"][i] for n in rest) for i in range(len(weeks))],
        })
    return {"weeks": weeks, "series": lines}


def _trending(today: date) -> list[dict[str, Any]]:
    """Fastest growing over the last days against the days before, above a volume floor."""
    recent = today - timedelta(days=TRENDING_DAYS)
    before = recent - timedelta(days=TRENDING_DAYS)
    rows = _rows(
        "SELECT model, sum(tokens) FILTER (WHERE day >= %(recent)s),"
        " sum(tokens) FILTER (WHERE day < %(recent)s)"
        " FROM rankings_modeldaily WHERE day >= %(before)s GROUP BY model",
        {"recent": recent, "before": before},
    )
    total = sum(int(now or 0) for _, now, _ in rows) or 1
    trending = []
    for model, now_tokens, then_tokens in rows:
        now_tokens, then_tokens = int(now_tokens or 0), int(then_tokens or 0)
        if now_tokens < TRENDING_FLOOR * total:
            continue
        growth = (now_tokens - then_tokens) / then_tokens if then_tokens else None
        trending.append({"model": model, "tokens": now_tokens, "growth": growth})
    # New models (no tokens before) count as the fastest growing.
    trending.sort(key=lambda t: (t["growth"] is not None, -(t["growth"] or 0), -t["tokens"]))
    return trending[:20]


def _categories(now: datetime) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Top models and apps per X-OpenRouter-Categories value over the last 30 days."""
    params = {"start": now - timedelta(days=30)}
    result: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"models": [], "apps": []}
    )
    for category, model, tokens in _rows(
        "SELECT category, model, sum(tokens) AS t FROM rankings_hourlycategoryusage"
        " WHERE hour >= %(start)s GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2",
        params,
    ):
        if len(result[category]["models"]) < 10:
            result[category]["models"].append({"model": model, "tokens": int(tokens)})
    for category, app_id, tokens in _rows(
        "SELECT c.category, a.id, sum(c.tokens) FROM rankings_hourlycategoryusage c"
        " JOIN rankings_app a ON a.origin = c.app AND NOT a.hidden"
        " WHERE c.hour >= %(start)s GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2",
        params,
    ):
        if len(result[category]["apps"]) < 10:
            result[category]["apps"].append({"app": app_id, "tokens": int(tokens)})
    return dict(result)


def open_weight_models() -> set[str]:
    """Models the catalog lists with published weights (a Hugging Face id)."""
    from marketplace.models import Model

    return set(Model.objects.exclude(hugging_face_id="").values_list("model_id", flat=True))


def refresh_rankings(now: datetime | None = None) -> dict[str, float]:
    """Every snapshot, each in its own transaction; returns seconds per job."""
    now = now or datetime.now(UTC)
    timings: dict[str, float] = {}
    jobs = [
        ("daily", lambda: refresh_daily()),
        ("context buckets", lambda: refresh_context_buckets()),
        ("leaderboards", lambda: refresh_leaderboards(now)),
        ("model panels", lambda: refresh_model_panels(now)),
        ("charts", lambda: refresh_charts(now, open_weight_models())),
    ]
    for name, job in jobs:
        started = time.perf_counter()
        with transaction.atomic():
            job()
        timings[name] = time.perf_counter() - started
    _save("refreshed", {"at": now.isoformat()}, now)
    from rankings.leaderboards import publish_version

    publish_version()
    return timings
