"""Provider keys (BYOK) over the JSON API: write-only, encrypted at rest, masked, published to
the gateway only as ciphertext."""

import io
import json
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from billing import byok
from billing.models import ProviderKey
from marketplace.models import Provider

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "sk-proj-THIS-IS-A-SECRET-abcdefgh1234WXYZ"


def new_key(email: str, **options) -> str:
    out = io.StringIO()
    call_command("create_api_key", email=email, stdout=out, **options)
    return out.getvalue().strip()


@pytest.fixture
def admin_headers(redis_client) -> dict[str, str]:
    Provider.objects.create(
        slug="openai", name="OpenAI", display_name="OpenAI", api_format="openai"
    )
    Provider.objects.create(
        slug="anthropic", name="Anthropic", display_name="Anthropic", api_format="anthropic"
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {new_key('ada@example.com', management=True)}"}


def post(client, headers, body):
    return client.post(
        "/api/v1/byok", data=json.dumps(body), content_type="application/json", **headers
    )


def test_create_read_update_delete(client, admin_headers, redis_client, caplog):
    caplog.set_level(logging.DEBUG)
    created = post(client, admin_headers, {"provider": "openai", "key": SECRET, "name": "Work"})
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert data["label"] == "sk-...WXYZ" and data["name"] == "Work" and data["provider"] == "openai"
    assert data["allowed_models"] is None and data["workspace_id"] is None
    assert SECRET not in created.content.decode()

    # At rest and in Redis: only ciphertext, which the configured key opens.
    row = ProviderKey.objects.get()
    assert SECRET not in row.secret and byok.decrypt(row.secret) == SECRET
    published = redis_client.get(byok.redis_key(row.user_id)).decode()
    assert SECRET not in published
    [record] = json.loads(published)
    assert record["provider"] == "openai" and byok.decrypt(record["secret"]) == SECRET

    listed = client.get("/api/v1/byok", **admin_headers).json()
    assert listed["total_count"] == 1 and listed["data"][0]["id"] == data["id"]
    one = client.get(f"/api/v1/byok/{data['id']}", **admin_headers)
    assert one.json()["data"]["label"] == "sk-...WXYZ" and SECRET not in one.content.decode()

    patched = client.patch(
        f"/api/v1/byok/{data['id']}",
        data=json.dumps({"key": "sk-new-secret-000000009999", "allowed_models": ["openai/gpt-4o"]}),
        content_type="application/json",
        **admin_headers,
    ).json()["data"]
    assert patched["label"] == "sk-...9999" and patched["allowed_models"] == ["openai/gpt-4o"]
    assert patched["name"] == "Work"  # omitted: unchanged
    cleared = client.patch(
        f"/api/v1/byok/{data['id']}",
        data=json.dumps({"allowed_models": None, "disabled": True}),
        content_type="application/json",
        **admin_headers,
    ).json()["data"]
    assert cleared["allowed_models"] is None and cleared["disabled"] is True
    assert redis_client.get(byok.redis_key(row.user_id)) is None  # disabled: not routable

    assert client.delete(f"/api/v1/byok/{data['id']}", **admin_headers).json() == {"deleted": True}
    assert client.get(f"/api/v1/byok/{data['id']}", **admin_headers).status_code == 404
    assert ProviderKey.objects.get().secret == ""  # soft delete wipes the secret
    assert SECRET not in caplog.text and "sk-new-secret" not in caplog.text


def test_bad_input_gets_a_clear_error(client, admin_headers):
    cases = [
        ({"provider": "nope", "key": SECRET}, "Unknown provider"),
        ({"provider": "openai"}, "key"),
        ({"provider": "openai", "key": SECRET, "allowed_models": []}, "must not be empty"),
        ({"provider": "openai", "key": SECRET, "allowed_api_key_hashes": ["x"]}, "64 lowercase"),
        (
            {"provider": "openai", "key": SECRET, "allowed_api_key_hashes": ["a" * 64]},
            "no such key",
        ),
        ({"provider": "openai", "key": SECRET, "allowed_models": ["m"] * 101}, "allowed_models"),
    ]
    for body, message in cases:
        response = post(client, admin_headers, body)
        assert response.status_code == 400, body
        assert message in response.json()["error"]["message"]
        assert SECRET not in response.content.decode()
    assert (
        client.post(
            "/api/v1/byok", data="[1]", content_type="application/json", **admin_headers
        ).status_code
        == 400
    )
    assert client.get("/api/v1/byok/not-a-uuid", **admin_headers).status_code == 404
    assert client.get("/api/v1/byok?limit=0", **admin_headers).status_code == 400
    assert not ProviderKey.objects.exists()


def test_keys_are_private_to_their_account_and_need_a_management_key(client, admin_headers):
    mine = post(client, admin_headers, {"provider": "anthropic", "key": SECRET}).json()["data"]
    bob = {"HTTP_AUTHORIZATION": f"Bearer {new_key('bob@example.com', management=True)}"}
    assert client.get(f"/api/v1/byok/{mine['id']}", **bob).status_code == 404
    assert client.get("/api/v1/byok", **bob).json() == {"data": [], "total_count": 0}
    inference = {"HTTP_AUTHORIZATION": f"Bearer {new_key('ada@example.com')}"}
    assert client.get("/api/v1/byok", **inference).status_code in (401, 403)


def test_rotating_the_encryption_key(settings, client, admin_headers):
    post(client, admin_headers, {"provider": "openai", "key": SECRET})
    old = list(settings.BYOK_ENCRYPTION_KEYS)
    settings.BYOK_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old]
    assert byok.reencrypt_all() == 1
    settings.BYOK_ENCRYPTION_KEYS = settings.BYOK_ENCRYPTION_KEYS[:1]  # the old key is gone
    assert byok.decrypt(ProviderKey.objects.get().secret) == SECRET
