"""refresh_rankings: the hourly rollups into the snapshots the pages read.

Every job recomputes its snapshot from the rollups and replaces it in one transaction, so a
job is idempotent (running it twice changes nothing) and late rows are picked up by the next
run. Pages never scan raw generations.
"""

import time as clock
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
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
WORK_MEM = "256MB"


def _run(sql: str, params: dict[str, Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})


def _rows(sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def refresh_daily() -> list[date]:
    """Per model and per app, per UTC day (the charts and rankings-daily), for the days the
    triggers marked as changed since the last run; returns them.

    Only the marks this run can see are taken: a batch still uncommitted keeps its mark for
    the next run, so no change is ever missed."""
    days = sorted({row[0] for row in _rows("DELETE FROM rankings_changedday RETURNING day")})
    if not days:
        return []
    params = {"days": days, "start": datetime.combine(days[0], time.min, tzinfo=UTC),
              "end": datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=UTC)}
    _run("DELETE FROM rankings_modeldaily WHERE day = ANY(%(days)s)", params)
    _run("DELETE FROM rankings_appdaily WHERE day = ANY(%(days)s)", params)
    # One pass over those days' hours for both tables.
    _run("DROP TABLE IF EXISTS daily_pass")  # (a caller's transaction may refresh twice)
    _run(
        "CREATE TEMPORARY TABLE daily_pass ON COMMIT DROP AS"
        " SELECT (hour AT TIME ZONE 'UTC')::date AS day, model, app, GROUPING(model) AS by_app,"
        " sum(tokens_prompt + tokens_completion) AS tokens, sum(requests) AS requests,"
        " sum(cost) AS cost"
        " FROM rankings_hourlyusage WHERE hour >= %(start)s AND hour < %(end)s"
        " AND (hour AT TIME ZONE 'UTC')::date = ANY(%(days)s) GROUP BY GROUPING SETS"
        " (((hour AT TIME ZONE 'UTC')::date, model), ((hour AT TIME ZONE 'UTC')::date, app))",
        params,
    )
    _run(
        "INSERT INTO rankings_modeldaily (day, model, tokens, requests, cost)"
        " SELECT day, model, tokens, requests, cost FROM daily_pass WHERE by_app = 0"
    )
    _run(
        "INSERT INTO rankings_appdaily (day, app, tokens, requests)"
        " SELECT day, app, tokens, requests FROM daily_pass WHERE by_app = 1 AND app <> ''"
    )
    return days


# The leaderboards of every period come from one pass over the hourly rollup: per (model,
# app, account), the sums of each period's window and of the window before it. That table is
# small (its size is the number of distinct model, app and account combinations, not of
# hours), and each leaderboard, the distinct counts and the retention are read from it. The
# pass sums each row into one slice of time between window edges (a plain GROUP BY); each
# window is then a union of slices.
_WINDOW_SUMS = """
CREATE TEMPORARY TABLE windows ON COMMIT DROP AS
WITH slices AS (
    SELECT model, app, user_id, {slice} AS slice,
        sum(tokens_prompt + tokens_completion) AS tokens, sum(cost) AS cost,
        sum(requests) AS requests
    FROM rankings_hourlyusage WHERE hour < %(end)s GROUP BY 1, 2, 3, 4
)
SELECT model, app, user_id, {sums} FROM slices GROUP BY model, app, user_id
"""

_MODEL_RANKING = """
WITH cur AS (
    SELECT model, sum({p}_tokens) AS tokens, sum({p}_cost) AS cost,
        sum({p}_requests) AS requests,
        count(DISTINCT user_id) FILTER (WHERE user_id <> 0 AND {p}_requests > 0) AS accounts,
        count(DISTINCT app) FILTER (WHERE app <> '' AND {p}_requests > 0) AS apps
    FROM windows GROUP BY model HAVING sum({p}_requests) > 0
), prev AS (
    SELECT model, sum({p}_prev_tokens) AS tokens,
        rank() OVER (ORDER BY sum({p}_prev_tokens) DESC) AS rank
    FROM windows GROUP BY model HAVING sum({p}_prev_requests) > 0
), users AS (
    SELECT model, bool_or({p}_requests > 0) AS cur, bool_or({p}_prev_requests > 0) AS prev
    FROM windows WHERE user_id <> 0 GROUP BY model, user_id
), retention AS (
    SELECT model, count(*) FILTER (WHERE cur)::float / count(*) AS retention
    FROM users WHERE prev GROUP BY model
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
    SELECT app, sum({p}_tokens) AS tokens, sum({p}_requests) AS requests,
        count(DISTINCT model) FILTER (WHERE {p}_requests > 0) AS models_used
    FROM windows WHERE app <> '' GROUP BY app HAVING sum({p}_requests) > 0
), prev AS (
    SELECT app, sum({p}_prev_tokens) AS tokens FROM windows
    WHERE app <> '' GROUP BY app HAVING sum({p}_prev_requests) > 0
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


def _window_sums(windows: dict[str, dict[str, Any]]) -> tuple[str, str, dict[str, Any]]:
    """The slice of each hour (a CASE over the window edges, newest first), the per-window
    sums over slices, and their parameters."""
    edges = sorted({w[edge] for w in windows.values() for edge in ("start", "prev")},
                   reverse=True)
    params: dict[str, Any] = {"end": windows["all"]["end"]}
    params.update({f"edge{n}": edge for n, edge in enumerate(edges)})
    case = " ".join(f"WHEN hour >= %(edge{n})s THEN {n}" for n in range(len(edges)))
    slice_sql = f"CASE {case} ELSE {len(edges)} END"
    tops = [params["end"], *edges]  # slice n is [edges[n], tops[n])
    columns = []
    for period, window in windows.items():
        for suffix, low, high in (("", window["start"], window["end"]),
                                  ("_prev", window["prev"], window["start"])):
            inside = [n for n, edge in enumerate(edges) if edge >= low and tops[n] <= high]
            where = f"slice IN ({', '.join(map(str, inside))})" if inside else "false"
            for measure in ("tokens", "cost", "requests"):
                columns.append(f"coalesce(sum({measure}) FILTER (WHERE {where}), 0)"
                               f" AS {period}{suffix}_{measure}")
    return slice_sql, ", ".join(columns), params


def refresh_leaderboards(now: datetime) -> None:
    """Models and apps per period, with the previous period beside them; then the apps using
    each model over the last 30 days (the month window)."""
    windows = _windows(now)
    slice_sql, sums, params = _window_sums(windows)
    _run("DROP TABLE IF EXISTS windows")  # (a caller's transaction may refresh twice)
    _run(_WINDOW_SUMS.format(slice=slice_sql, sums=sums), params)
    _run("DELETE FROM rankings_modelranking")
    _run("DELETE FROM rankings_appranking")
    for period in windows:
        _run(_MODEL_RANKING.format(p=period), {"period": period})
        _run(_APP_RANKING.format(p=period), {"period": period})
    _run("DELETE FROM rankings_modelapp")
    _run(
        "INSERT INTO rankings_modelapp (model, rank, app_id, tokens, requests)"
        " SELECT w.model, row_number() OVER (PARTITION BY w.model"
        " ORDER BY sum(month_tokens) DESC, a.id), a.id, sum(month_tokens), sum(month_requests)"
        " FROM windows w JOIN rankings_app a ON a.origin = w.app"
        " WHERE w.month_requests > 0 GROUP BY w.model, a.id"
    )


def refresh_model_panels(now: datetime) -> None:
    """Per model and provider, the quality panel over the last 30 days (a range of hours)."""
    params = {"start": now - timedelta(days=30)}
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
        started = clock.perf_counter()
        with transaction.atomic():
            # The passes group millions of rollup rows in a hash table: in memory, not spilled.
            _run(f"SET LOCAL work_mem = '{WORK_MEM}'")
            job()
        timings[name] = clock.perf_counter() - started
    _save("refreshed", {"at": now.isoformat()}, now)
    from rankings.leaderboards import publish_version

    publish_version()
    return timings
