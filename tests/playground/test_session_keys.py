"""The playground's short-lived keys: minted for the signed-in user's page only, worth little,
and dead outside the session once revoked (sign-out) or expired."""

import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from accounts.keys import hash_key, update_key
from accounts.models import ApiKey
from accounts.session_keys import LIFETIME, LIMIT, MAX_LIVE, SESSION_KEY_NAME, mint_session_key
from tests.playground.conftest import FREE, PAID, PASSWORD, MakeUser

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(email: str = "ada@example.com") -> Client:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=email, password=PASSWORD)
    return client


def csrf(client: Client) -> str:
    page = client.get("/playground").content.decode()
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def mint(client: Client) -> dict[str, Any]:
    response = client.post("/playground/key", HTTP_X_CSRFTOKEN=csrf(client))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"].startswith("max-age=0")
    return response.json()


def complete(router: str, key: str, model: str = PAID) -> httpx.Response:
    return httpx.post(f"{router}/api/v1/chat/completions", timeout=10,
                      headers={"Authorization": f"Bearer {key}"},
                      json={"model": model, "messages": [{"role": "user", "content": "Hi"}]})


def eventually_refused(router: str, key: str) -> httpx.Response:
    """The gateway caches a key for at most 0.5 s: a revoked key dies within a second."""
    deadline = time.monotonic() + 3
    while (response := complete(router, key)).status_code == 200:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.1)
    return response


def test_minting_needs_a_signed_in_user_and_the_csrf_token(make_user: MakeUser) -> None:
    make_user()
    anonymous = Client(enforce_csrf_checks=True)
    refused = anonymous.post("/playground/key", HTTP_X_CSRFTOKEN=csrf(anonymous))
    assert refused.status_code == 401
    assert refused.json() == {"error": {"code": 401, "message": "Sign in to use the playground."}}
    # A page of another site cannot mint one with the user's cookies: no token, no key.
    assert signed_in().post("/playground/key").status_code == 403
    assert not ApiKey.objects.filter(name=SESSION_KEY_NAME).exists()
    assert signed_in().get("/playground/key").status_code == 405


def test_a_session_key_is_short_lived_capped_and_listed_on_the_keys_page(
    make_user: MakeUser,
) -> None:
    make_user()
    client = signed_in()
    minted = mint(client)
    row = ApiKey.objects.get(hash=hash_key(minted["key"]))
    assert row.name == SESSION_KEY_NAME and row.limit == LIMIT and not row.management
    assert row.expires_at is not None
    assert abs(row.expires_at - (timezone.now() + LIFETIME)) < timedelta(seconds=30)
    assert minted["expires_at"] == int(row.expires_at.timestamp())
    # Listed with the user's other keys, by its name, so it can be seen and revoked.
    keys_page = client.get("/keys").content.decode()
    assert SESSION_KEY_NAME in keys_page and row.label in keys_page
    # Never in a page: the plaintext only ever travels in the JSON answer to the page's script.
    assert minted["key"] not in keys_page
    assert minted["key"] not in client.get("/playground").content.decode()


def test_minting_revokes_expired_keys_and_keeps_a_few_live_ones(make_user: MakeUser) -> None:
    make_user()
    user = User.objects.get(email="ada@example.com")
    first = mint_session_key(user)
    update_key(ApiKey.objects.get(hash=hash_key(first.key)),
               expires_at=timezone.now() - timedelta(seconds=1))
    keys = [mint_session_key(user).key for _ in range(MAX_LIVE + 2)]
    live = set(ApiKey.objects.filter(name=SESSION_KEY_NAME).values_list("hash", flat=True))
    assert live == {hash_key(k) for k in keys[-MAX_LIVE:]}


def test_sign_out_revokes_the_key_at_the_gateway(router: str, make_user: MakeUser) -> None:
    own_key = make_user()
    client = signed_in()
    key = mint(client)["key"]
    answered = complete(router, key)
    assert answered.status_code == 200, answered.text

    client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert not ApiKey.objects.filter(name=SESSION_KEY_NAME).exists()
    refused = eventually_refused(router, key)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == 401
    # The user's own keys are untouched by signing out of the web app.
    assert complete(router, own_key).status_code == 200


def test_an_expired_session_key_is_refused(router: str, make_user: MakeUser) -> None:
    make_user()
    key = mint(signed_in())["key"]
    update_key(ApiKey.objects.get(hash=hash_key(key)),
               expires_at=timezone.now() - timedelta(seconds=1))
    refused = eventually_refused(router, key)
    assert refused.status_code == 401 and "expired" in refused.json()["error"]["message"]


def test_a_session_key_of_an_account_without_credits_reaches_free_models(
    router: str, make_user: MakeUser
) -> None:
    make_user(credits=None)
    key = mint(signed_in())["key"]
    assert complete(router, key, FREE).status_code == 200
    assert complete(router, key, PAID).status_code == 402
