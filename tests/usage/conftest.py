"""Usage fixtures: an account with keys, and generations stored the way the meter stores them."""

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis
from django.core.management import call_command

from accounts.keys import hash_key
from accounts.models import ApiKey
from usage.models import Generation

MakeKey = Callable[..., str]


@pytest.fixture
def make_key(db: None, redis_client: redis.Redis) -> MakeKey:
    def make(email: str, **options: Any) -> str:
        out = io.StringIO()
        call_command("create_api_key", email=email, stdout=out, **options)
        return out.getvalue().strip()

    return make


def key_row(key: str) -> ApiKey:
    return ApiKey.objects.get(hash=hash_key(key))


def yesterday(hour: int = 12) -> datetime:
    day = datetime.now(UTC).date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def store(number: int, key: ApiKey, **fields: Any) -> Generation:
    values: dict[str, Any] = {
        "model": "openai/gpt-4o",
        "provider": "openai",
        "provider_name": "OpenAI",
        "tokens_prompt": 100,
        "tokens_completion": 50,
        "cost": Decimal("0.000750000"),
        "http_referer": "https://chat.example/",
        "app_title": "Chat Example",
        "app_categories": ["general-chat"],
        "finish_reason": "stop",
        "latency_ms": 900,
        "ttft_ms": 200,
        "throughput": 60.0,
        "created_at": yesterday(),
        **fields,
    }
    generation = Generation(id=f"gen-usage-{number}", user_id=key.user_id, key_id=key.pk,
                            key_hash=key.hash, **values)
    Generation.objects.bulk_create([generation])
    return generation
