"""Usage fixtures: an account with keys, generations stored the way the meter stores them, and
usage events published the way the gateway publishes them (docs/gateway-state.md)."""

import io
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from accounts.keys import hash_key
from accounts.models import ApiKey
from config import gateway_state
from usage.metering import GROUP, STREAMS, Consumer
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


# --- usage events as the gateway publishes them, and the consumer that stores them -----------

_ids = itertools.count(1)


def usage_event(user_id: int, **overrides: Any) -> dict[str, Any]:
    """One usage event as the gateway writes it; every call gets a new generation id."""
    number = next(_ids)
    event: dict[str, Any] = {
        "id": f"gen-1761234567-test{number:016d}",
        "user_id": user_id,
        "key_id": 12,
        "key_hash": "ab" * 32,
        "model": "meta-llama/llama-3.3-70b-instruct",
        "endpoint_id": 412,
        "provider": "deepinfra",
        "provider_name": "DeepInfra",
        "api_type": "completions",
        "streamed": True,
        "cancelled": False,
        "status": 200,
        "finish_reason": "stop",
        "native_finish_reason": "stop",
        "tokens_prompt": 42,
        "tokens_completion": 128,
        "tokens_reasoning": 0,
        "tokens_cached": 0,
        "cost": "0.000045160",
        "cost_nanos": 45160,
        "latency_ms": 812,
        "ttft_ms": 240,
        "generation_time_ms": 572,
        "throughput": 223.7,
        "http_referer": "https://myapp.example/chat",
        "app_title": "My App",
        "app_categories": ["general-chat"],
        "external_user": None,
        "session_id": None,
        "upstream_id": f"chatcmpl-{number}",
        "service_tier": None,
        "provider_responses": [
            {"provider": "together", "endpoint_id": 411, "status": 503, "latency_ms": 40}
        ],
        "created_at": 1761234567.123,
    }
    event.update(overrides)
    return event


Publish = Callable[..., dict[str, Any]]


@pytest.fixture
def publish(redis_client: redis.Redis) -> Publish:
    """What the gateway does when a generation settles: XADD the event to its account's shard
    stream, SET its generation record."""

    def publish(event: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(event)
        pipe = redis_client.pipeline(transaction=True)
        pipe.xadd(stream_of(event["user_id"]), {"event": text})
        pipe.set(gateway_state.generation(event["user_id"], event["id"]), text, ex=24 * 3600)
        pipe.execute()
        return event

    return publish


@pytest.fixture
def ada(db: None) -> User:
    return User.objects.create_user("ada", "ada@example.com", "pw-ada-123456")


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user("bob", "bob@example.com", "pw-bob-123456")


@pytest.fixture
def meter(redis_client: redis.Redis) -> Callable[..., int]:
    """`manage.py meter --once` in-process: returns how many entries it handled."""

    def run(name: str = "test-meter", batch_size: int = 500) -> int:
        return Consumer(redis_client, name=name, batch_size=batch_size).drain()

    return run


def pending(client: redis.Redis) -> int:
    """Entries read by a consumer of the group and not acknowledged yet."""
    return sum(int(client.xpending(stream, GROUP)["pending"])
               for stream in STREAMS if client.exists(stream))


def stream_of(user_id: int) -> str:
    """The usage stream of the account's shard."""
    return gateway_state.usage_stream(gateway_state.shard_of(user_id))


def stream_length(client: redis.Redis) -> int:
    """Entries in all the shard streams together."""
    return sum(int(client.xlen(stream)) for stream in STREAMS)


@pytest.fixture
def subprocess_env(transactional_db: None, redis_client: redis.Redis) -> Iterator[dict[str, str]]:
    """Environment for a real `manage.py meter` process on this test's database and Redis."""
    import os

    from django.conf import settings

    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        # libpq names the subprocess's sessions, so a test can find them in pg_stat_activity.
        PGAPPNAME=f"meter-test-{os.getpid()}",
    )
    yield env
