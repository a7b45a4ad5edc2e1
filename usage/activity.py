"""An account's usage, read from its daily rollups (charts, breakdowns, the activity API)
and from its own generations (the log). Every query is limited to one account."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.models import ApiKey
from rankings.models import AccountActivityDay, AccountDailyUsage, App
from rankings.rollup_sql import ACTIVITY_LOCK
from usage.models import Generation

BREAKDOWNS = ("model", "provider", "key_id", "app")


@dataclass
class Filters:
    """What /activity and its CSV are narrowed to; every field optional."""

    start: date
    end: date  # inclusive
    model: str = ""
    provider: str = ""
    key_id: int | None = None
    app: str = ""

    def as_query(self) -> dict[str, str]:
        query = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name in ("model", "provider", "app"):
            if getattr(self, name):
                query[name] = getattr(self, name)
        if self.key_id is not None:
            query["key"] = str(self.key_id)
        return query


def _bounds(filters: Filters) -> tuple[datetime, datetime]:
    start = datetime.combine(filters.start, time.min, tzinfo=UTC)
    return start, datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=UTC)


def rollups(user_id: int, filters: Filters) -> QuerySet[AccountDailyUsage]:
    rows = AccountDailyUsage.objects.filter(
        user_id=user_id, day__gte=filters.start, day__lte=filters.end)
    if filters.model:
        rows = rows.filter(model=filters.model)
    if filters.provider:
        rows = rows.filter(provider=filters.provider)
    if filters.key_id is not None:
        rows = rows.filter(key_id=filters.key_id)
    if filters.app:
        rows = rows.filter(app=filters.app)
    return rows


@dataclass
class Dashboard:
    days: list[str]
    spend: list[float]
    tokens: list[int]
    requests: list[int]
    totals: dict[str, Any]
    breakdowns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


_DASHBOARD_SQL = """
SELECT day, model, provider, key_id, app, GROUPING(day, model, provider, key_id, app),
    sum(cost), sum(tokens_prompt + tokens_completion), sum(requests), sum(byok_usage)
FROM rankings_accountdailyusage
WHERE user_id = %s AND day >= %s AND day <= %s {where}
GROUP BY GROUPING SETS ((day), (model), (provider), (key_id), (app))
"""
# GROUPING() bit masks: a set's own column is 0, the other four are 1.
_SETS = {0b01111: "day", 0b10111: "model", 0b11011: "provider", 0b11101: "key_id",
         0b11110: "app"}


def dashboard(user_id: int, filters: Filters) -> Dashboard:
    """Per-day series and every breakdown in one grouped query (GROUPING SETS) over the
    account's daily rollups: the database adds up, Python only labels."""
    where = ""
    params: list[Any] = [user_id, filters.start, filters.end]
    for column, value in (("model", filters.model), ("provider", filters.provider),
                          ("app", filters.app)):
        if value:
            where += f" AND {column} = %s"
            params.append(value)
    if filters.key_id is not None:
        where += " AND key_id = %s"
        params.append(filters.key_id)
    groups: dict[str, dict[Any, dict[str, Any]]] = {name: {} for name in ("day", *BREAKDOWNS)}
    with connection.cursor() as cursor:
        cursor.execute(_DASHBOARD_SQL.format(where=where), params)
        for day, model, provider, key_id, app, grouping, cost, tokens, requests, byok in cursor:
            name = _SETS[grouping]
            value = {"day": day, "model": model, "provider": provider, "key_id": key_id,
                     "app": app}[name]
            groups[name][value] = {"cost": cost, "tokens": int(tokens),
                                   "requests": int(requests), "byok": byok}
    per_day = groups.pop("day")
    totals: dict[str, Any] = {
        "cost": sum((d["cost"] for d in per_day.values()), Decimal(0)),
        "tokens": sum(d["tokens"] for d in per_day.values()),
        "requests": sum(d["requests"] for d in per_day.values()),
        # List price of the generations served with the account's own provider keys: paid to
        # the provider, not from credits (the credits paid only the fee, counted in cost).
        "byok": sum((d["byok"] for d in per_day.values()), Decimal(0)),
    }
    span = (filters.end - filters.start).days + 1
    days = [filters.start + timedelta(days=n) for n in range(span)]
    labels = _labels(user_id, groups)
    breakdowns = {
        name: [
            {"value": value, "label": labels[name].get(value, value), **numbers}
            for value, numbers in sorted(groups[name].items(), key=lambda kv: -kv[1]["cost"])
        ]
        for name in BREAKDOWNS
    }
    return Dashboard(
        days=[d.isoformat() for d in days],
        spend=[float(per_day[d]["cost"]) if d in per_day else 0.0 for d in days],
        tokens=[per_day[d]["tokens"] if d in per_day else 0 for d in days],
        requests=[per_day[d]["requests"] if d in per_day else 0 for d in days],
        totals=totals,
        breakdowns=breakdowns,
    )


def _labels(user_id: int, groups: dict[str, dict[Any, Any]]) -> dict[str, dict[Any, str]]:
    keys = dict(ApiKey.objects.filter(user_id=user_id, pk__in=list(groups["key_id"])).values_list(
        "pk", "name"))
    apps = {a.origin: a.name for a in App.objects.filter(origin__in=list(groups["app"]))}
    return {
        "model": {},
        "provider": {},
        "key_id": {k: keys.get(k, "no key" if k == 0 else f"deleted key #{k}")
                   for k in groups["key_id"]},
        "app": {origin: apps.get(origin, origin) or "no app" for origin in groups["app"]},
    }


def generations(user_id: int, filters: Filters) -> QuerySet[Generation]:
    """The account's generation log, newest first (served by the (user, created_at) index)."""
    start, end = _bounds(filters)
    rows = Generation.objects.filter(user_id=user_id, created_at__gte=start, created_at__lt=end)
    if filters.model:
        rows = rows.filter(model=filters.model)
    if filters.provider:
        rows = rows.filter(provider=filters.provider)
    if filters.key_id is not None:
        rows = rows.filter(key_id=filters.key_id or None)
    if filters.app:
        rows = rows.filter(http_referer__istartswith=filters.app)
    return rows.order_by("-created_at", "-id")


_ACTIVITY_SQL = f"""
SELECT to_char(day, 'YYYY-MM-DD'), model, provider,
    sum(requests)::bigint, sum(tokens_prompt)::bigint, sum(tokens_completion)::bigint,
    sum(tokens_reasoning)::bigint, sum(tokens_cached)::bigint,
    sum(cost)::float8, sum(byok_usage)::float8
FROM {AccountDailyUsage._meta.db_table}
WHERE user_id = %s AND day >= %s AND day <= %s {{where}}
GROUP BY day, model, provider
ORDER BY day DESC, model, provider
"""  # noqa: S608 (money leaves as the float the API answers with: no Decimal per row)


def activity_items(
    user_id: int, start: date, end: date, key_id: int | None
) -> list[dict[str, Any]]:
    """GET /api/v1/activity rows: one per (UTC day, model, provider), newest day first, summed
    from the account's daily rollup (its keys and apps added up, or one key's rows)."""
    from marketplace.catalog import get_catalog

    params: list[Any] = [user_id, start, end]
    if key_id is None:
        sql = _ACTIVITY_SQL.format(where="")
    else:
        sql = _ACTIVITY_SQL.format(where="AND key_id = %s")
        params.append(key_id)
    catalog = get_catalog()
    # The standard endpoint of each (model, provider), looked up once per pair, not per row.
    endpoints: dict[tuple[str, str], tuple[str, str]] = {}
    items = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for day, model, provider, count, prompt, completion, reasoning, cached, cost, byok in rows:
        pair = (model, provider)
        if pair not in endpoints:
            endpoint = next((e for e in catalog.endpoints.get(model, [])
                             if e.provider_slug == provider and e.is_standard), None)
            endpoints[pair] = ((str(endpoint.pk), endpoint.provider_name) if endpoint
                               else ("", provider))
        endpoint_id, provider_name = endpoints[pair]
        items.append({
            "date": day,
            "model": model,
            "model_permaslug": model,
            "endpoint_id": endpoint_id,
            "provider_name": provider_name,
            "usage": cost,
            "byok_usage_inference": byok,
            "requests": count,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "reasoning_tokens": reasoning,
            # Not in the reference's shape, but the openrouter SDK requires it.
            "cached_tokens": cached,
        })
    return items


def activity_body(user_id: int, start: date, end: date, key_id: int | None) -> bytes:
    """GET /api/v1/activity's JSON body. Unfiltered, each completed day's answer is stored
    (AccountActivityDay) the first time it is asked for, so a month of a busy account is read
    as thirty short rows, however many generations it holds."""
    from marketplace.catalog import get_catalog

    stamp = get_catalog().stamp
    if key_id is not None or stamp is None:
        return orjson.dumps({"data": activity_items(user_id, start, end, key_id)})
    stored = _stored_answers(user_id, start, end, stamp)
    days = _days(start, end)
    if missing := [day for day in days if day not in stored]:
        stored.update(_store_days(user_id, min(missing), max(missing), stamp))
    parts = [memoryview(stored[day])[1:-1] for day in days if len(stored[day]) > 2]  # not []
    return b'{"data":[' + b",".join(parts) + b"]}"


_STORED_SQL = f"""
SELECT day, items FROM {AccountActivityDay._meta.db_table}
WHERE user_id = %s AND day >= %s AND day <= %s AND catalog_stamp = %s
"""  # noqa: S608


def _stored_answers(user_id: int, start: date, end: date, stamp: str) -> dict[date, bytes]:
    """The stored answers of the days, fetched in binary: as text (Django's client-side
    cursor) bytea travels as hex, twice its size, and decoding it took about 2 of the 4 ms of
    a busy account's month at 10M generations. Read as text with convert_from, through
    Django's cursor, it still cost 0.5 ms more (UTF-8 checked, decoded and encoded again)."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_STORED_SQL, [user_id, start, end, stamp], binary=True)
        return dict(cursor.fetchall())


def _store_days(user_id: int, start: date, end: date, stamp: str) -> dict[date, bytes]:
    """Compute the days' answers and store those of completed days (a day still running is
    answered, never stored). The account's lock (taken by the rollup trigger before it drops
    answers of days that late rows change) keeps a late row from landing between the read
    and the store."""
    today = datetime.now(UTC).date()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s::int)", [ACTIVITY_LOCK, user_id])
        by_day: dict[date, list[dict[str, Any]]] = {day: [] for day in _days(start, end)}
        for item in activity_items(user_id, start, end, None):
            by_day[date.fromisoformat(item["date"])].append(item)
        answers = {day: orjson.dumps(items) for day, items in by_day.items()}
        AccountActivityDay.objects.bulk_create(
            [AccountActivityDay(user_id=user_id, day=day, catalog_stamp=stamp, items=items)
             for day, items in answers.items() if day < today],
            update_conflicts=True, unique_fields=["user_id", "day"],
            update_fields=["catalog_stamp", "items"],
        )
    return answers


def _days(start: date, end: date) -> list[date]:
    """The days from `end` back to `start`, both included: the API's order."""
    return [end - timedelta(days=n) for n in range((end - start).days + 1)]
