"""POST /api/v1/auth/keys: a code is good once, for ten minutes, with its own verifier only."""

import base64
import hashlib
import json
import secrets
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from accounts import oauth
from accounts.models import ApiKey, AuthorizationCode

CALLBACK = "https://notes.example/callback"


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


@pytest.fixture
def verifier() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture
def code(ada, verifier) -> str:
    issued, _ = oauth.issue_code(
        ada, CALLBACK, code_challenge=s256(verifier), code_challenge_method="S256", app_name="Notes"
    )
    return issued


def exchange(client: Client, **body) -> tuple[int, dict]:
    response = client.post("/api/v1/auth/keys", json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.mark.django_db
def test_the_right_verifier_gets_a_key_owned_by_the_user(client, ada, code, verifier):
    status, body = exchange(client, code=code, code_verifier=verifier, code_challenge_method="S256")
    assert status == 200
    assert body["user_id"] == f"user_{ada.pk}"
    key = ApiKey.objects.get(hash=hashlib.sha256(body["key"].encode()).hexdigest())
    assert key.user == ada and key.name == "Notes"
    assert key.oauth_app is not None and key.oauth_app.origin == "https://notes.example"


@pytest.mark.django_db
def test_a_code_is_single_use(client, code, verifier):
    assert exchange(client, code=code, code_verifier=verifier)[0] == 200
    status, body = exchange(client, code=code, code_verifier=verifier)
    assert (status, body["error"]["message"]) == (403, "Authorization code has already been used")


@pytest.mark.django_db
def test_a_wrong_verifier_is_refused_and_the_code_stays_bound_to_its_challenge(
    client, code, verifier
):
    status, body = exchange(client, code=code, code_verifier=secrets.token_urlsafe(48))
    assert (status, body["error"]["message"]) == (403, "Invalid code or code_verifier")
    assert exchange(client, code=code)[0] == 403  # no verifier at all
    assert (
        exchange(client, code=code, code_verifier=s256(verifier))[0] == 403
    )  # the challenge itself
    assert exchange(client, code=code, code_verifier=verifier)[0] == 200


@pytest.mark.django_db
def test_an_expired_code_is_refused(client, code, verifier):
    AuthorizationCode.objects.update(
        created_at=AuthorizationCode.objects.get().created_at - timedelta(minutes=10, seconds=1)
    )
    status, body = exchange(client, code=code, code_verifier=verifier)
    assert (status, body["error"]["message"]) == (403, "Authorization code expired")


@pytest.mark.django_db
def test_a_different_method_than_at_authorization_is_400(client, code, verifier):
    status, body = exchange(
        client, code=code, code_verifier=verifier, code_challenge_method="plain"
    )
    assert (status, body["error"]["message"]) == (400, "Invalid code_challenge_method")
    assert (
        exchange(client, code=code, code_verifier=verifier, code_challenge_method="s256")[0] == 200
    )


@pytest.mark.django_db
def test_plain_challenges_work(client, ada):
    issued, _ = oauth.issue_code(
        ada,
        CALLBACK,
        code_challenge="plain-secret-verifier-" + "x" * 30,
        code_challenge_method="plain",
    )
    assert exchange(client, code=issued, code_verifier="nope")[0] == 403
    assert (
        exchange(client, code=issued, code_verifier="plain-secret-verifier-" + "x" * 30)[0] == 200
    )


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": None}, {"code": "x" * 500}])
def test_missing_or_malformed_codes_are_400(client, body):
    status, response = exchange(client, **body)
    assert status == 400 and response["error"]["code"] == 400


@pytest.mark.django_db
def test_an_unknown_code_is_403(client):
    assert exchange(client, code="auth_code_nope", code_verifier="x")[0] == 403


@pytest.mark.django_db(transaction=True)
def test_racing_replays_mint_exactly_one_key(ada, code, verifier):
    results: list[int] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        try:
            barrier.wait()
            results.append(exchange(Client(), code=code, code_verifier=verifier)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == [200] + [403] * 7
    assert ApiKey.objects.filter(oauth_app__isnull=False).count() == 1
