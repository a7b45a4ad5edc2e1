"""GET /api/v1/models/<author>/<slug>/endpoints, /api/v1/model/<author>/<slug> and
/api/v1/models/count."""

from decimal import Decimal

import pytest

from tests.catalog.conftest import assert_matches_schema, response_schema

pytestmark = pytest.mark.usefixtures("loaded")


def test_endpoints_of_a_model_cheapest_first(client) -> None:
    response = client.get("/api/v1/models/meta-llama/llama-3.3-70b-instruct/endpoints")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["id"] == "meta-llama/llama-3.3-70b-instruct"
    endpoints = data["endpoints"]
    assert len(endpoints) == 13
    blended = [
        Decimal(e["pricing"]["prompt"]) + Decimal(e["pricing"]["completion"]) for e in endpoints
    ]
    assert blended == sorted(blended)
    turbo = next(e for e in endpoints if e["tag"] == "deepinfra/turbo")
    assert turbo["name"] == "DeepInfra | meta-llama/llama-3.3-70b-instruct"
    assert turbo["provider_name"] == "DeepInfra"
    assert turbo["status"] == 0
    # Live stats are not collected yet: null, never invented.
    assert turbo["latency_last_30m"] is None and turbo["uptime_last_1d"] is None


def test_endpoints_match_openrouters_schema(client) -> None:
    # (Some catalog providers, e.g. Hyperbolic and Lambda, are newer than the ProviderName
    # enum of the reference snapshot, so this checks a model served by listed providers.)
    body = client.get("/api/v1/models/openai/gpt-oss-120b/endpoints").json()
    assert_matches_schema(body, response_schema("/models/{author}/{slug}/endpoints"))
    assert len(body["data"]["endpoints"]) == 12


def test_tier_endpoints_are_listed_with_their_tier_tag(client) -> None:
    endpoints = client.get("/api/v1/models/openai/gpt-4o/endpoints").json()["data"]["endpoints"]
    assert {e["tag"] for e in endpoints} >= {"openai", "openai/priority", "azure"}


def test_free_variant_endpoints(client) -> None:
    url = "/api/v1/models/meta-llama/llama-3.1-8b-instruct:free/endpoints"
    endpoints = client.get(url).json()["data"]["endpoints"]
    assert endpoints and all(e["pricing"]["prompt"] == "0" for e in endpoints)


def test_unknown_model_is_a_404_in_the_error_shape(client) -> None:
    response = client.get("/api/v1/models/nobody/nothing/endpoints")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": 404,
        "message": "Model 'nobody/nothing' not found",
        "metadata": {"error_type": "not_found"},
    }


def test_one_model_by_id(client) -> None:
    response = client.get("/api/v1/model/anthropic/claude-sonnet-4")
    assert response.status_code == 200
    assert_matches_schema(response.json(), response_schema("/model/{author}/{slug}"))
    assert response.json()["data"]["id"] == "anthropic/claude-sonnet-4"
    assert client.get("/api/v1/model/anthropic/nope").status_code == 404


def test_count_follows_the_same_filters(client) -> None:
    body = client.get("/api/v1/models/count").json()
    assert_matches_schema(body, response_schema("/models/count"))
    assert body == {"data": {"count": 102}}
    tools = client.get("/api/v1/models?supported_parameters=tools").json()["total_count"]
    count = client.get("/api/v1/models/count?supported_parameters=tools").json()["data"]["count"]
    assert count == tools < 102
    # The two models that draw images (and write text).
    assert client.get("/api/v1/models/count?output_modalities=image").json() == {
        "data": {"count": 2}
    }
