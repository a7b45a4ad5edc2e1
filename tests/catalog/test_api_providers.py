"""GET /api/v1/providers: the provider directory in OpenRouter's shape."""

import pytest

from tests.catalog.conftest import assert_matches_schema, response_schema

pytestmark = pytest.mark.usefixtures("loaded")


def test_lists_every_enabled_provider(client) -> None:
    response = client.get("/api/v1/providers")
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, response_schema("/providers"))
    by_slug = {p["slug"]: p for p in body["data"]}
    assert len(by_slug) == 24
    assert by_slug["google-vertex"]["name"] == "Google"
    assert by_slug["openai"]["privacy_policy_url"].startswith("https://openai.com/")
    assert by_slug["openai"]["headquarters"] == "US"
    assert response["ETag"]
    assert client.get("/api/v1/providers", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
