"""/api/v1/key and /keys: errors in OpenRouter's shape, and no account can touch another's keys."""

import json

import pytest

from accounts.models import ApiKey
from tests.accounts.conftest import bearer, row

pytestmark = pytest.mark.django_db


def error_of(response) -> tuple[int, str]:
    body = response.json()
    assert set(body["error"]) >= {"code", "message"}
    assert body["error"]["code"] == response.status_code
    return response.status_code, body["error"]["message"]


def test_no_key_is_401_in_the_error_shape(client):
    assert error_of(client.get("/api/v1/key")) == (401, "No auth credentials found")
    assert error_of(client.get("/api/v1/keys"))[0] == 401


def test_unknown_malformed_and_disabled_keys_are_401(client, ada_key):
    assert error_of(client.get("/api/v1/key", **bearer("sk-or-v1-" + "0" * 64)))[0] == 401
    assert error_of(client.get("/api/v1/key", HTTP_AUTHORIZATION="Basic abc"))[0] == 401
    ApiKey.objects.filter(pk=row(ada_key).pk).update(disabled=True)
    assert error_of(client.get("/api/v1/key", **bearer(ada_key))) == (401, "API key is disabled")


def test_an_inference_key_cannot_manage_keys(client, ada_key):
    for method, path in [
        ("get", "/api/v1/keys"),
        ("post", "/api/v1/keys"),
        ("get", f"/api/v1/keys/{row(ada_key).hash}"),
        ("delete", f"/api/v1/keys/{row(ada_key).hash}"),
        ("get", "/api/v1/credits"),
    ]:
        response = getattr(client, method)(path, **bearer(ada_key))
        assert error_of(response) == (403, "Only management keys can perform this operation")
    assert ApiKey.objects.filter(pk=row(ada_key).pk).exists()


def test_a_management_key_cannot_see_or_change_another_accounts_keys(
    client, ada_management_key, bob_key
):
    bobs = row(bob_key)
    path = f"/api/v1/keys/{bobs.hash}"
    assert error_of(client.get(path, **bearer(ada_management_key))) == (404, "Key not found")
    patch = client.patch(
        path,
        json.dumps({"disabled": True}),
        content_type="application/json",
        **bearer(ada_management_key),
    )
    assert error_of(patch)[0] == 404
    assert error_of(client.delete(path, **bearer(ada_management_key)))[0] == 404
    listed = client.get("/api/v1/keys?include_disabled=true", **bearer(ada_management_key)).json()
    assert bobs.hash not in [k["hash"] for k in listed["data"]]
    bobs.refresh_from_db()
    assert bobs.disabled is False


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "limit": -1}, "limit"),
        ({"name": "x", "limit": "lots"}, "limit"),
        ({"name": "x", "limit_reset": "hourly"}, "limit_reset"),
        ({"name": "x", "expires_at": "2099-01-01T00:00:00+02:00"}, "UTC"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "future"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_key_bodies_get_a_clear_400(client, ada_management_key, body, message_part):
    response = client.post(
        "/api/v1/keys",
        json.dumps(body),
        content_type="application/json",
        **bearer(ada_management_key),
    )
    status, message = error_of(response)
    assert status == 400 and message_part in message


def test_malformed_json_is_a_400_not_a_500(client, ada_management_key):
    response = client.post(
        "/api/v1/keys", "{nope", content_type="application/json", **bearer(ada_management_key)
    )
    assert error_of(response)[0] == 400


def test_listing_keys_costs_a_fixed_number_of_queries(
    client, ada_management_key, django_assert_max_num_queries
):
    headers = bearer(ada_management_key)
    for i in range(20):
        client.post(
            "/api/v1/keys",
            json.dumps({"name": f"k{i}"}),
            content_type="application/json",
            **headers,
        )
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/keys", **headers)
    assert len(response.json()["data"]) == 22


def test_limit_remaining_follows_the_gateways_usage_of_the_limit_period(
    client, ada_management_key, redis_client
):
    from accounts.usage import period_fields

    created = client.post(
        "/api/v1/keys",
        json.dumps({"name": "daily", "limit": 5, "limit_reset": "daily"}),
        content_type="application/json",
        **bearer(ada_management_key),
    ).json()
    from config import gateway_state

    owner = ApiKey.objects.get(hash=created["data"]["hash"]).user_id
    redis_client.hset(
        gateway_state.key_usage(owner, created["data"]["hash"]),
        mapping={"total": 9_000_000_000, period_fields()["daily"]: 1_250_000_000},
    )

    data = client.get("/api/v1/key", **bearer(created["key"])).json()["data"]

    assert data["usage"] == 9.0 and data["usage_daily"] == 1.25
    assert data["limit"] == 5.0 and data["limit_remaining"] == 3.75
