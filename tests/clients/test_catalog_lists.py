"""The shipped catalog's embedding models and the smaller lists: /embeddings/models,
/models/user (the key's account preferences applied) and /endpoints/zdr."""

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from accounts.models import PrivacySettings
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file


@pytest.fixture
def catalog(db: None, redis_client: Any) -> None:
    load_catalog_file(DEFAULT_CATALOG)


def key_of(email: str) -> str:
    out = io.StringIO()
    call_command("create_api_key", email=email, stdout=out)
    return out.getvalue().strip()


def test_embedding_models_are_listed_apart_from_chat_models(catalog: None, client: Client):
    body = client.get("/api/v1/embeddings/models").json()
    ids = {m["id"] for m in body["data"]}
    assert {"openai/text-embedding-3-small", "openai/text-embedding-3-large",
            "google/gemini-embedding-001", "mistralai/mistral-embed"} <= ids
    assert body["total_count"] == len(body["data"])
    small = next(m for m in body["data"] if m["id"] == "openai/text-embedding-3-small")
    assert small["pricing"]["prompt"] == "0.00000002"
    assert small["architecture"]["output_modalities"] == ["embeddings"]
    chat_ids = {m["id"] for m in client.get("/api/v1/models").json()["data"]}
    assert not ids & chat_ids
    page = client.get("/api/v1/embeddings/models?limit=2").json()
    assert len(page["data"]) == 2 and "offset=2" in page["links"]["next"]


def test_models_user_applies_the_accounts_provider_preferences(catalog: None, client: Client):
    key = key_of("ada@example.com")
    assert client.get("/api/v1/models/user").status_code == 401
    assert client.get("/api/v1/models/user",
                      HTTP_AUTHORIZATION="Bearer sk-or-v1-nope").status_code == 401
    everything = client.get("/api/v1/models/user", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert everything["total_count"] == client.get("/api/v1/models").json()["total_count"]
    ada = User.objects.get(email="ada@example.com")
    PrivacySettings.objects.update_or_create(user=ada, defaults={"allow_providers": "anthropic"})
    only = client.get("/api/v1/models/user", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert 0 < only["total_count"] < everything["total_count"]
    assert "anthropic/claude-sonnet-4.5" in {m["id"] for m in only["data"]}
    assert "openai/gpt-4o" not in {m["id"] for m in only["data"]}


def test_zdr_endpoints_neither_train_nor_retain(catalog: None, client: Client):
    data = client.get("/api/v1/endpoints/zdr").json()["data"]
    assert data
    assert all({"name", "model_id", "provider_name", "pricing", "tag"} <= set(e) for e in data)
