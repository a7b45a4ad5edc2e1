"""GET /api/v1/datasets/rankings-daily and /datasets/app-rankings, through the openrouter SDK."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from openrouter import OpenRouter

from rankings.models import App
from rankings.refresh import refresh_rankings
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


def api_key(email: str = "ada@example.com") -> str:
    out = io.StringIO()
    call_command("create_api_key", email=email, stdout=out)
    return out.getvalue().strip()


def day(offset: int) -> datetime:
    today = datetime.now(UTC).date()
    return datetime.combine(today - timedelta(days=offset), datetime.min.time(), tzinfo=UTC)


def load(user: User) -> None:
    rows = []
    for n in range(60):  # 60 models, so the top 50 leave an `other` row
        rows.append(Generation(
            id=f"gen-ds-{n}", user=user, model=f"lab/model-{n:02d}", provider="p",
            tokens_prompt=1000 - n, tokens_completion=0, cost=Decimal(0),
            created_at=day(2) + timedelta(hours=1),
            http_referer=f"https://app{n % 3}.example/", app_title=f"App {n % 3}",
            app_categories=["roleplay"] if n % 3 == 0 else ["cli-agent"]))
    rows.append(Generation(
        id="gen-ds-local", user=user, model="lab/model-00", provider="p", tokens_prompt=10**6,
        cost=Decimal(0), created_at=day(2), http_referer="http://localhost:3000/",
        app_title="Local"))
    Generation.objects.bulk_create(rows)
    refresh_rankings()


def test_rankings_daily_top_50_then_other(live_server) -> None:
    key = api_key()
    load(User.objects.get(email="ada@example.com"))
    result = OpenRouter(api_key=key, server_url=live_server.url + "/api/v1")
    answer = result.datasets.get_rankings_daily()
    rows = answer.data
    assert len(rows) == 51
    assert rows[0].model_permaslug == "lab/model-00"
    assert rows[0].total_tokens == str(1000 + 10**6)
    assert rows[-1].model_permaslug == "other"
    assert rows[-1].total_tokens == str(sum(1000 - n for n in range(50, 60)))
    assert answer.meta.version == "v1"


def app_names(client: OpenRouter, **query: str) -> list[str]:
    answer = client.datasets.get_app_rankings(**query)  # type: ignore[arg-type]
    assert answer is not None
    return [r.app_name for r in answer.result.data]


def test_app_rankings_public_apps_only(live_server) -> None:
    key = api_key()
    load(User.objects.get(email="ada@example.com"))
    client = OpenRouter(api_key=key, server_url=live_server.url + "/api/v1")
    answer = client.datasets.get_app_rankings()
    assert answer is not None
    rows = answer.result.data
    assert [r.app_name for r in rows] == ["App 0", "App 1", "App 2"]
    assert "Local" not in [r.app_name for r in rows]
    assert [r.rank for r in rows] == [1, 2, 3]
    assert app_names(client, category="coding") == ["App 1", "App 2"]
    App.objects.filter(title="App 1").update(hidden=True)
    assert app_names(client, category="coding") == ["App 2"]


def test_bad_parameters_are_400s(client) -> None:
    key = api_key()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    for url in ["/api/v1/datasets/app-rankings?limit=0", "/api/v1/datasets/app-rankings?sort=x",
                "/api/v1/datasets/app-rankings?start_date=2026-13-01",
                "/api/v1/datasets/rankings-daily?period=year",
                "/api/v1/datasets/rankings-daily?modality=video",
                "/api/v1/datasets/rankings-daily?start_date=2026-02-01&end_date=2026-01-01"]:
        answer = client.get(url, **auth)
        assert answer.status_code == 400, url
        assert answer.json()["error"]["code"] == 400
    assert client.get("/api/v1/datasets/app-rankings").status_code == 401
