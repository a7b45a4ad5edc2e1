"""The hourly rollups equal a direct GROUP BY over the generations, whatever the insert path."""

import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from rankings.models import App, HourlyCategoryUsage, HourlyUsage
from usage.models import Generation

START = datetime(2026, 11, 28, tzinfo=UTC)
MODELS = ["openai/gpt-4o", "meta-llama/llama-3.3-70b-instruct", "mistralai/mistral-small"]
REFERERS = ["https://chat.example/x", "https://code.example", "http://localhost:3000/", ""]

SUMS = (
    "count(*), count(*) FILTER (WHERE status >= 400), sum(tokens_prompt), sum(tokens_completion),"
    " sum(tokens_reasoning), sum(tokens_cached), sum(cost), coalesce(sum(latency_ms), 0),"
    " count(latency_ms), coalesce(sum(ttft_ms), 0), count(ttft_ms), count(throughput),"
    " count(*) FILTER (WHERE finish_reason = 'length'),"
    " count(*) FILTER (WHERE finish_reason = 'content_filter'),"
    " count(*) FILTER (WHERE finish_reason = 'tool_calls')"
)
ROLLUP = (
    "requests, errors, tokens_prompt, tokens_completion, tokens_reasoning, tokens_cached, cost,"
    " latency_ms_sum, latency_count, ttft_ms_sum, ttft_count, throughput_count, finish_length,"
    " finish_content_filter, finish_tool_calls"
)


def generation(rng: random.Random, user_id: int | None, number: int, **extra: object) -> Generation:
    when = START + timedelta(minutes=rng.randrange(0, 6 * 24 * 60))  # spans a month boundary
    completion = rng.randrange(0, 5000)
    return Generation(
        id=f"gen-rollup-{number}",
        user_id=user_id,
        key_id=rng.choice([None, 1, 2]),
        model=rng.choice(MODELS),
        provider=rng.choice(["deepinfra", "together"]),
        status=rng.choice([200, 200, 200, 502]),
        finish_reason=rng.choice(["stop", "length", "tool_calls", "content_filter", ""]),
        tokens_prompt=rng.randrange(0, 9000),
        tokens_completion=completion,
        tokens_reasoning=rng.randrange(0, 100),
        tokens_cached=rng.randrange(0, 100),
        cost=Decimal(rng.randrange(0, 10**7)).scaleb(-9),
        byok_usage=rng.choice([Decimal(0), Decimal(rng.randrange(1, 10**8)).scaleb(-9)]),
        latency_ms=rng.choice([None, rng.randrange(50, 5000)]),
        ttft_ms=rng.choice([None, rng.randrange(20, 900)]),
        throughput=rng.choice([None, rng.random() * 200]),
        http_referer=rng.choice(REFERERS),
        app_title=rng.choice(["", "Chat", "Code Helper"]),
        app_categories=rng.choice([[], ["roleplay"], ["programming-app", "cli-agent"]]),
        created_at=when,
        **extra,
    )


def direct_groups() -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT date_trunc('hour', created_at, 'UTC'), model, provider,"
            f" rankings_app_origin(http_referer), coalesce(user_id, 0), {SUMS}"
            " FROM rankings_generation GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
        )
        return cursor.fetchall()


def rollup_rows() -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT hour, model, provider, app, user_id, {ROLLUP}"
            " FROM rankings_hourlyusage ORDER BY 1, 2, 3, 4, 5"
        )
        return cursor.fetchall()


ACCOUNT_DAY = (
    "user_id, day, key_id, model, provider, app, requests, tokens_prompt, tokens_completion,"
    " tokens_reasoning, tokens_cached, cost, byok_usage"
)
ACCOUNT_SUMS = (
    "count(*), sum(tokens_prompt), sum(tokens_completion), sum(tokens_reasoning),"
    " sum(tokens_cached), sum(cost), sum(byok_usage)"
)


def account_day_groups() -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(user_id, 0), (created_at AT TIME ZONE 'UTC')::date,"
            " coalesce(key_id, 0), model, provider, rankings_app_origin(http_referer),"
            f" {ACCOUNT_SUMS}"
            " FROM rankings_generation GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
        )
        return cursor.fetchall()


def account_day_rollups() -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {ACCOUNT_DAY} FROM rankings_accountdailyusage ORDER BY 1, 2, 3, 4, 5, 6"
        )
        return cursor.fetchall()


def category_groups() -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('hour', created_at, 'UTC'), c, model,"
            " rankings_app_origin(http_referer), count(*), sum(tokens_prompt + tokens_completion)"
            " FROM rankings_generation, unnest(app_categories) c"
            " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        )
        direct = cursor.fetchall()
    return direct


def category_rollups() -> list[tuple[object, ...]]:
    return list(
        HourlyCategoryUsage.objects.order_by("hour", "category", "model", "app").values_list(
            "hour", "category", "model", "app", "requests", "tokens"
        )
    )


def assert_exact() -> None:
    assert rollup_rows() == direct_groups()
    assert account_day_rollups() == account_day_groups()
    assert category_rollups() == category_groups()
    # Float sums are the one inexact column: equal up to rounding.
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(throughput), 0) FROM rankings_generation")
        direct = cursor.fetchone()[0]
    rolled = sum(HourlyUsage.objects.values_list("throughput_sum", flat=True))
    assert rolled == pytest.approx(direct, rel=1e-9, abs=1e-6)


@pytest.mark.django_db
def test_random_batches_late_rows_and_redelivery_match_group_by() -> None:
    rng = random.Random(7)
    user = User.objects.create_user("rollup-user")
    rows = [generation(rng, rng.choice([user.pk, None]), n) for n in range(1200)]
    position = 0
    while position < len(rows):
        size = rng.randrange(1, 300)
        Generation.objects.bulk_create(rows[position : position + size], ignore_conflicts=True)
        # Re-delivered events (same id, same created_at) are skipped and counted once.
        again = rng.sample(rows[: position + size], min(20, position + size))
        Generation.objects.bulk_create(
            [
                Generation(**{f.attname: getattr(g, f.attname) for f in Generation._meta.fields})
                for g in again
            ],
            ignore_conflicts=True,
        )
        position += size
    # A late row: an hour already rolled up gets one more generation.
    Generation.objects.bulk_create([generation(rng, user.pk, 99999)], ignore_conflicts=True)
    assert Generation.objects.count() == 1201
    assert_exact()
    # Deleting generations (demo data cleared) subtracts them again.
    Generation.objects.filter(user_id=user.pk).delete()
    assert_exact()


@pytest.mark.django_db
def test_localhost_never_becomes_an_app_and_titles_follow_the_latest() -> None:
    rng = random.Random(3)
    first = generation(
        rng,
        None,
        1,
    )
    first.http_referer, first.app_title = "https://chat.example/a", "Old Name"
    first.created_at = START
    second = generation(rng, None, 2)
    second.http_referer, second.app_title = "https://Chat.example/b?q", "New Name"
    second.created_at = START + timedelta(hours=2)
    local = generation(rng, None, 3)
    local.http_referer, local.app_title = "http://localhost:5173/", "Local"
    Generation.objects.bulk_create([first, second, local])
    app = App.objects.get()
    assert (app.origin, app.title) == ("https://chat.example", "New Name")
    assert not HourlyUsage.objects.filter(app__contains="localhost").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_stay_exact() -> None:
    rng = random.Random(11)
    batches = [[generation(rng, None, t * 1000 + n) for n in range(400)] for t in range(4)]
    errors: list[BaseException] = []

    def insert(batch: list[Generation]) -> None:
        try:
            for start in range(0, len(batch), 100):
                Generation.objects.bulk_create(batch[start : start + 100], ignore_conflicts=True)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=insert, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Generation.objects.count() == 1600
    assert_exact()
