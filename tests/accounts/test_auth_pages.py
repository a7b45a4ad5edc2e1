"""Sign-up with email verification, throttled sign-in, password reset, social buttons."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits(redis_client):
    cache.clear()


def test_sign_up_needs_the_emailed_link_then_signs_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "grace@example.com",
            "password1": "a long pass phrase 42",
            "password2": "a long pass phrase 42",
        },
    )
    assert response.status_code == 302
    assert client.get("/keys").status_code == 302  # not signed in before verifying
    (message,) = mail.outbox
    found = re.search(r"https?://testserver(/accounts/confirm-email/\S+/)", str(message.body))
    assert found is not None
    client.post(found.group(1))
    assert client.get("/keys").status_code == 200


def test_repeated_failed_sign_ins_are_throttled(client, make_key):
    make_key("ada@example.com", password="a long pass phrase 42")
    for _ in range(5):
        response = client.post(
            "/accounts/login/", {"login": "ada@example.com", "password": "wrong"}
        )
        assert b"not correct" in response.content
    blocked = client.post(
        "/accounts/login/", {"login": "ada@example.com", "password": "a long pass phrase 42"}
    )
    assert b"Too many failed login attempts" in blocked.content
    assert "_auth_user_id" not in client.session


def test_password_reset_mails_a_link(client, make_key):
    make_key("ada@example.com", password="a long pass phrase 42")
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_social_buttons_only_when_a_client_id_is_configured(client):
    assert b"Continue with GitHub" not in client.get("/accounts/login/").content
    apps = {"github": {"APPS": [{"client_id": "abc", "secret": "s", "key": ""}]}}
    with override_settings(SOCIALACCOUNT_PROVIDERS=apps):
        page = client.get("/accounts/login/").content
    assert b"Continue with GitHub" in page and b"Continue with Google" not in page
