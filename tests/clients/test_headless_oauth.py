"""Headless sign-in for command-line apps: no callback URL, a code challenge, and the code
shown on screen to paste into the app, which exchanges it for a key at /api/v1/auth/keys."""

import base64
import hashlib
import secrets

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.keys import hash_key
from accounts.models import ApiKey


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def ada(db: None, client: Client) -> User:
    user = User.objects.create_user("ada", "ada@example.com", "a long passphrase")
    client.force_login(user)
    return user


def test_headless_sign_in_shows_a_code_that_the_cli_exchanges(ada: User, client: Client,
                                                                redis_client: object):
    verifier = secrets.token_urlsafe(48)
    query = {"key_label": "my-cli", "code_challenge": challenge_of(verifier),
             "code_challenge_method": "S256"}
    consent = client.get("/auth", query)
    assert consent.status_code == 200
    assert b"my-cli" in consent.content and b"code to paste" in consent.content
    shown = client.post("/auth", {**query, "app_name": "my-cli", "decision": "allow",
                                  "callback_url": ""})
    assert shown.status_code == 200
    code = shown.context["code"]
    assert code.encode() in shown.content
    exchange = Client().post("/api/v1/auth/keys", {"code": code, "code_verifier": verifier,
                                                   "code_challenge_method": "S256"},
                             content_type="application/json")
    assert exchange.status_code == 200
    key = exchange.json()["key"]
    assert ApiKey.objects.get(hash=hash_key(key)).user == ada
    again = Client().post("/api/v1/auth/keys", {"code": code, "code_verifier": verifier},
                          content_type="application/json")
    assert again.status_code == 403


def test_headless_deny_and_clear_errors(ada: User, client: Client):
    denied = client.post("/auth", {"key_label": "my-cli", "code_challenge": "x" * 43,
                                   "decision": "deny"})
    assert denied.status_code == 200 and b"denied" in denied.content
    no_challenge = client.get("/auth", {"key_label": "my-cli"})
    assert no_challenge.status_code == 400 and b"code_challenge" in no_challenge.content
    nothing = client.get("/auth")
    assert nothing.status_code == 400 and b"headless sign-in" in nothing.content
    remote_http = client.get("/auth", {"callback_url": "http://example.com/cb"})
    assert remote_http.status_code == 400 and b"localhost" in remote_http.content
