"""refresh_rankings turns rollups into leaderboards, panels and charts; running it twice
changes nothing; partitions are created ahead and old ones detach without losing history."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from rankings.models import AppRanking, ModelApp, ModelDaily, ModelQuality, ModelRanking, Snapshot
from rankings.partitions import detach_before, ensure_partitions, partitions
from rankings.refresh import refresh_rankings
from usage.models import Generation

NOW = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)


def gen(
    number: int, user: User, model: str, when: datetime, tokens: int, **extra: object
) -> Generation:
    fields: dict[str, object] = {
        "provider": "deepinfra",
        "http_referer": "https://chat.example/",
        "app_title": "Chat",
        "finish_reason": "stop",
        **extra,
    }
    return Generation(
        id=f"gen-refresh-{number}",
        user=user,
        model=model,
        created_at=when,
        tokens_prompt=tokens,
        tokens_completion=tokens,
        cost=Decimal("0.000001") * tokens,
        **fields,
    )


def snapshot() -> list[tuple[object, ...]]:
    return list(
        ModelRanking.objects.order_by("period", "rank").values_list(
            "period",
            "rank",
            "model",
            "tokens",
            "previous_tokens",
            "previous_rank",
            "accounts",
            "apps",
            "retention",
        )
    )


@pytest.mark.django_db
def test_leaderboards_compare_with_the_previous_period() -> None:
    ada = User.objects.create_user("ada-r")
    bob = User.objects.create_user("bob-r")
    old = NOW - timedelta(days=10)
    Generation.objects.bulk_create(
        [
            # Last week both used "a/big"; this week only ada came back (retention 1/2).
            gen(1, ada, "a/big", old, 500),
            gen(2, bob, "a/big", old, 500),
            gen(3, ada, "a/big", NOW - timedelta(days=2), 1000),
            gen(
                4,
                bob,
                "b/new",
                NOW - timedelta(hours=3),
                4000,
                provider="together",
                finish_reason="length",
                http_referer="https://code.example/x",
                app_title="Code",
            ),
            gen(
                5,
                ada,
                "b/new",
                NOW - timedelta(hours=2),
                10,
                status=502,
                http_referer="http://localhost:8000/",
            ),
        ]
    )
    refresh_rankings(NOW)
    week = {r.model: r for r in ModelRanking.objects.filter(period="week")}
    assert [r.model for r in ModelRanking.objects.filter(period="week").order_by("rank")] == [
        "b/new",
        "a/big",
    ]
    assert week["a/big"].tokens == 2000
    assert week["a/big"].previous_tokens == 2000
    assert week["a/big"].retention == 0.5
    assert week["b/new"].previous_tokens is None
    assert (week["b/new"].accounts, week["b/new"].apps) == (2, 1)  # localhost is no app
    day = ModelRanking.objects.get(period="day", model="b/new")
    assert day.tokens == 8020
    assert not ModelRanking.objects.filter(period="day", model="a/big").exists()
    assert ModelRanking.objects.get(period="all", model="a/big").tokens == 4000
    assert ModelDaily.objects.get(day=date(2026, 11, 25), model="a/big").tokens == 2000
    assert {a.app.origin for a in AppRanking.objects.filter(period="month")} == {
        "https://chat.example",
        "https://code.example",
    }
    assert ModelApp.objects.get(model="b/new").app.name == "Code"
    quality = ModelQuality.objects.get(model="b/new", provider="together")
    assert (quality.requests, quality.finish_length) == (1, 1)
    assert ModelQuality.objects.get(model="b/new", provider="deepinfra").errors == 1
    weekly = Snapshot.objects.get(name="weekly_models").data
    assert (
        sum(sum(s["tokens"]) for s in weekly["series"]) == 4000 + 8020
    )  # every generation, within 12 weeks

    before = snapshot()
    call_command("refresh_rankings")  # idempotent (and the command runs)
    refresh_rankings(NOW)
    assert snapshot() == before


@pytest.mark.django_db
def test_partitions_ahead_and_detached_months_keep_rankings() -> None:
    ensure_partitions(date(2026, 9, 1))
    names = partitions()
    assert "rankings_generation_2026_09" in names
    assert ensure_partitions(date(2026, 9, 1)) == 0  # idempotent
    user = User.objects.create_user("old-user")
    Generation.objects.bulk_create(
        [
            gen(10, user, "c/old", datetime(2026, 9, 15, tzinfo=UTC), 100),
            gen(11, user, "c/old", NOW - timedelta(hours=1), 100),
        ]
    )
    assert detach_before(date(2026, 10, 1)) == ["rankings_generation_2026_09"]
    assert Generation.objects.count() == 1
    refresh_rankings(NOW)
    assert ModelRanking.objects.get(period="all", model="c/old").tokens == 400


@pytest.mark.django_db
def test_rows_of_a_month_without_partition_move_into_it_when_it_is_created() -> None:
    user = User.objects.create_user("far-user")
    far = datetime(2031, 3, 3, tzinfo=UTC)
    Generation.objects.bulk_create([gen(20, user, "d/far", far, 5)])
    assert ensure_partitions(date(2031, 3, 1)) >= 1
    assert "rankings_generation_2031_03" in partitions()
    assert Generation.objects.get().created_at == far
