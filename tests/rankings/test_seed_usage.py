"""seed_usage loads marked demo history through the real table and triggers; --clear removes
exactly it and leaves real usage alone."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Sum

from rankings.models import App, HourlyUsage, ModelRanking, SyntheticData
from usage.models import Generation


@pytest.mark.django_db
def test_seed_then_clear_keeps_real_usage() -> None:
    real = User.objects.create_user("real-user")
    Generation.objects.create(
        id="gen-real-1",
        user=real,
        model="openai/gpt-4o",
        provider="openai",
        tokens_prompt=10,
        tokens_completion=5,
        cost=Decimal("0.0001"),
        http_referer="https://real.example/",
        app_title="Real",
        created_at=datetime.now(UTC),
    )
    call_command(
        "seed_usage", generations=3000, days=20, accounts=12, apps=30, models=6, batch_size=1000
    )
    assert Generation.objects.count() == 3001
    assert SyntheticData.objects.get().generations == 3000
    assert HourlyUsage.objects.aggregate(n=Sum("requests"))["n"] == 3001
    assert ModelRanking.objects.filter(period="month").count() >= 6
    assert App.objects.filter(origin__endswith=".demo.example").exists()
    assert User.objects.filter(username__startswith="demo-").count() == 12

    call_command("seed_usage", clear=True)
    assert list(Generation.objects.values_list("id", flat=True)) == ["gen-real-1"]
    assert not SyntheticData.objects.exists()
    assert HourlyUsage.objects.aggregate(n=Sum("requests"))["n"] == 1
    assert list(App.objects.values_list("origin", flat=True)) == ["https://real.example"]
    assert not User.objects.filter(username__startswith="demo-").exists()
    assert list(ModelRanking.objects.filter(period="month").values_list("model", "tokens")) == [
        ("openai/gpt-4o", 15)
    ]
