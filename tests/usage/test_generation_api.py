"""GET /api/v1/generation?id=: a generation's stats for its owner, from the moment it ends."""

import json
from pathlib import Path

import jsonschema
import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.keys import create_key
from config import gateway_state
from tests.usage.conftest import usage_event

SCHEMA = json.loads((Path(__file__).parent / "generation_response.schema.json").read_text())


@pytest.fixture
def ada_key(ada: User) -> str:
    return create_key(ada, "Ada's laptop").key


@pytest.fixture
def bob_key(bob: User) -> str:
    return create_key(bob, "Bob's key").key


def get(client: Client, key: str | None, **params: str) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = client.get("/api/v1/generation", params, headers=headers)
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_answers_from_redis_at_once_then_from_postgres_with_the_same_fields(
    client: Client, ada: User, ada_key: str, publish, meter, redis_client
) -> None:
    event = publish(usage_event(ada.pk, tokens_reasoning=9, tokens_cached=4, session_id="s-1"))

    status, before = get(client, ada_key, id=event["id"])  # the consumer has not run yet
    meter()
    redis_client.delete(gateway_state.generation(ada.pk, event["id"]))  # as 24 hours later
    status_after, after = get(client, ada_key, id=event["id"])

    assert (status, status_after) == (200, 200)
    assert before == after
    jsonschema.validate(after, SCHEMA)
    data = after["data"]
    assert data["id"] == event["id"]
    assert data["model"] == "meta-llama/llama-3.3-70b-instruct"
    assert data["provider_name"] == "DeepInfra"
    assert data["total_cost"] == data["usage"] == 0.00004516
    assert data["created_at"] == "2025-10-23T15:49:27.123000+00:00"
    assert (data["streamed"], data["cancelled"], data["api_type"]) == (True, False, "completions")
    assert (data["finish_reason"], data["native_finish_reason"]) == ("stop", "stop")
    assert (data["latency"], data["generation_time"]) == (812, 572)
    assert (data["tokens_prompt"], data["tokens_completion"]) == (42, 128)
    assert (data["native_tokens_prompt"], data["native_tokens_completion"]) == (42, 128)
    assert (data["native_tokens_reasoning"], data["native_tokens_cached"]) == (9, 4)
    assert data["http_referer"] == "https://myapp.example/chat"
    assert data["origin"] == "https://myapp.example"
    assert data["upstream_id"] == event["upstream_id"]
    assert data["session_id"] == "s-1"
    assert data["external_user"] is None and data["service_tier"] is None
    assert data["is_byok"] is False
    assert data["provider_responses"] == [
        {
            "provider_name": "together",
            "endpoint_id": "411",
            "status": 503,
            "latency": 40,
            "is_byok": False,
        }
    ]


def test_nullable_fields_are_null_not_missing(
    client: Client, ada: User, ada_key: str, publish, meter
) -> None:
    event = publish(
        usage_event(
            ada.pk,
            http_referer=None,
            app_title=None,
            app_categories=None,
            upstream_id=None,
            finish_reason=None,
            native_finish_reason=None,
            latency_ms=None,
            ttft_ms=None,
            generation_time_ms=None,
            throughput=None,
            provider_responses=None,
        )
    )
    meter()

    status, body = get(client, ada_key, id=event["id"])

    assert status == 200
    jsonschema.validate(body, SCHEMA)
    data = body["data"]
    for field in ("http_referer", "upstream_id", "finish_reason", "latency", "provider_responses"):
        assert data[field] is None
    assert data["origin"] == ""


def test_someone_elses_generation_is_not_found(
    client: Client, ada: User, ada_key: str, bob_key: str, publish, meter
) -> None:
    event = publish(usage_event(ada.pk))

    unmetered = get(client, bob_key, id=event["id"])
    meter()
    metered = get(client, bob_key, id=event["id"])

    expected = (404, {"error": {"code": 404, "message": "Generation not found", "metadata": None}})
    assert unmetered == metered == expected


@pytest.mark.parametrize(
    "generation_id", ["gen-1761234567-doesnotexist", "x" * 5000, "gen-\x00", "gen-' or 1=1 --"]
)
def test_an_unknown_id_is_not_found(
    client: Client, ada_key: str, redis_client, generation_id: str
) -> None:
    status, body = get(client, ada_key, id=generation_id)

    assert status == 404
    assert body["error"]["code"] == 404


def test_the_id_is_required(client: Client, ada_key: str) -> None:
    for params in ({}, {"id": ""}, {"id": "  "}):
        status, body = get(client, ada_key, **params)
        assert status == 400
        assert body["error"] == {
            "code": 400,
            "message": "Missing required query parameter: id",
            "metadata": None,
        }


@pytest.mark.parametrize("key", [None, "sk-or-v1-" + "0" * 64])
def test_an_api_key_is_required(
    client: Client, ada: User, publish, redis_client, key: str | None
) -> None:
    event = publish(usage_event(ada.pk))

    status, body = get(client, key, id=event["id"])

    assert status == 401
    assert body["error"]["code"] == 401


def test_answers_in_a_constant_number_of_queries(
    client: Client, ada: User, ada_key: str, publish, meter, django_assert_max_num_queries
) -> None:
    event = publish(usage_event(ada.pk))
    meter()

    with django_assert_max_num_queries(3):
        status, _ = get(client, ada_key, id=event["id"])

    assert status == 200
