"""Every documented filter of GET /api/v1/datasets/rankings-daily works, through the SDK:
modality (from the catalog), context_bucket (prompt size), category and language_type (the
categories of logged prompts)."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from openrouter import OpenRouter

from marketplace.models import Model
from rankings.categories import LoggedPrompt, classify_prompts
from rankings.refresh import refresh_rankings
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)

DAY = datetime.combine(datetime.now(UTC).date() - timedelta(days=2), datetime.min.time(),
                       tzinfo=UTC)


def api_key(email: str = "ada@example.com") -> str:
    out = io.StringIO()
    call_command("create_api_key", email=email, stdout=out)
    return out.getvalue().strip()


def pick_models() -> tuple[str, str]:
    """A model that reads images, and a text-only one without tools."""
    call_command("load_catalog", verbosity=0)
    vision = Model.objects.filter(input_modalities__contains=["image"],
                                  supported_parameters__contains=["tools"]).first()
    plain = Model.objects.exclude(input_modalities__contains=["image"]).exclude(
        supported_parameters__contains=["tools"]).filter(
        output_modalities__contains=["text"]).first()
    assert vision is not None and plain is not None
    return vision.model_id, plain.model_id


def generation(n: int, user: User, model: str, prompt_tokens: int, **fields: object) -> Generation:
    return Generation(id=f"gen-filter-{n}", user=user, model=model, provider="p",
                      tokens_prompt=prompt_tokens, tokens_completion=100, cost=Decimal(0),
                      created_at=DAY + timedelta(hours=n % 20), **fields)


@pytest.fixture
def world(live_server, redis_client) -> tuple[OpenRouter, str, str]:
    key = api_key()
    user = User.objects.get(email="ada@example.com")
    vision, plain = pick_models()
    Generation.objects.bulk_create([
        generation(1, user, vision, 500), generation(2, user, vision, 700),
        generation(3, user, plain, 50_000), generation(4, user, plain, 2_000_000),
    ])
    refresh_rankings()
    classify_prompts([
        LoggedPrompt("gen-filter-1", vision, DAY, 600, "Refactor this Python class to use async"),
        LoggedPrompt("gen-filter-3", plain, DAY, 50_100, "Translate this letter into German"),
    ])
    return OpenRouter(api_key=key, server_url=live_server.url + "/api/v1"), vision, plain


def rows(client: OpenRouter, **query: str) -> list[tuple[str, str]]:
    answer = client.datasets.get_rankings_daily(**query)  # type: ignore[arg-type]
    return [(r.model_permaslug, r.total_tokens) for r in answer.data]


def test_unfiltered_counts_everything(world) -> None:
    client, vision, plain = world
    assert rows(client) == [(plain, str(50_100 + 2_000_100)), (vision, "1400")]


def test_modality_keeps_the_catalog_models_with_it(world) -> None:
    client, vision, plain = world
    assert rows(client, modality="image") == [(vision, "1400")]
    assert rows(client, modality="tool_calling") == [(vision, "1400")]
    assert [m for m, _ in rows(client, modality="text")] == [plain, vision]
    assert rows(client, modality="image_output") == []


def test_context_bucket_groups_requests_by_prompt_size(world) -> None:
    client, vision, plain = world
    assert rows(client, context_bucket="1K") == [(vision, "1400")]
    assert rows(client, context_bucket="100K") == [(plain, "50100")]
    assert rows(client, context_bucket="10M") == [(plain, "2000100")]
    assert rows(client, context_bucket="10K") == []
    assert rows(client, context_bucket="1K", modality="image") == [(vision, "1400")]


def test_category_and_language_type_from_classified_prompts(world) -> None:
    client, vision, plain = world
    assert rows(client, category="programming") == [(vision, "600")]
    assert rows(client, category="translation") == [(plain, "50100")]
    assert rows(client, language_type="programming") == [(vision, "600")]
    assert rows(client, language_type="natural") == [(plain, "50100")]
    assert rows(client, category="trivia") == []  # no prompt was classified so
    assert rows(client, category="programming", language_type="natural") == []
    answer = client.datasets.get_rankings_daily(category="programming", period="week")
    assert [r.model_permaslug for r in answer.data] == [vision]


def test_bucket_table_follows_late_rows(world) -> None:
    client, vision, _ = world
    user = User.objects.get(email="ada@example.com")
    Generation.objects.bulk_create([generation(5, user, vision, 5_000)])
    refresh_rankings()
    assert rows(client, context_bucket="10K") == [(vision, "5100")]
    refresh_rankings()  # idempotent
    assert rows(client, context_bucket="10K") == [(vision, "5100")]


def test_filter_errors(client, redis_client) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_key()}"}
    for query, message in [
        ("modality=video", "modality must be one of"),
        ("context_bucket=5K", "context_bucket must be one of"),
        ("category=poetry", "category must be one of"),
        ("language_type=klingon", "language_type must be one of"),
        ("context_bucket=1K&category=legal", "cannot be combined"),
    ]:
        answer = client.get(f"/api/v1/datasets/rankings-daily?{query}", **auth)
        assert answer.status_code == 400, query
        assert message in answer.json()["error"]["message"], query
