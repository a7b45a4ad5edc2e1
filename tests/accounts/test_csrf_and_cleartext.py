"""Every form refuses a cross-site POST; a key never rests in clear in Postgres, Redis or logs."""

import json
import logging

import pytest
from django.db import connection
from django.test import Client

from tests.accounts.conftest import bearer, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client(ada) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    return client


def test_every_account_form_needs_the_csrf_token(csrf_client, ada_key):
    key_hash = row(ada_key).hash
    forms = {
        "/keys": {"name": "x"},
        f"/keys/{key_hash}": {"name": "renamed"},
        f"/keys/{key_hash}/toggle": {},
        f"/keys/{key_hash}/delete": {},
        "/settings": {"prompt_logging": "on"},
        "/auth": {"callback_url": "https://notes.example/cb", "decision": "allow"},
        "/accounts/logout/": {},
    }
    for path, data in forms.items():
        assert csrf_client.post(path, data).status_code == 403, path
    key = row(ada_key)
    assert (key.name, key.disabled) == ("Ada's laptop", False)


def all_text_in_postgres() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [name for (name,) in cursor.fetchall()]
        dump = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            dump += [text for (text,) in cursor.fetchall()]
    return "\n".join(dump)


def test_keys_are_stored_only_as_hashes(client, caplog, redis_client, ada_management_key, make_key):
    caplog.set_level(logging.DEBUG)
    created = client.post(
        "/api/v1/keys",
        json.dumps({"name": "ci"}),
        content_type="application/json",
        **bearer(ada_management_key),
    ).json()["key"]
    client.get("/api/v1/key", **bearer(created))
    client.get("/api/v1/key", **bearer(created + "0"))  # a failed attempt is not logged in clear
    client.force_login(row(created).user)
    page_key = client.post("/keys", {"name": "from the page"}).context["new_key"]

    secrets = [ada_management_key, created, page_key]
    stored = all_text_in_postgres()
    in_redis = " ".join(
        f"{name!r} {redis_client.dump(name)!r}" for name in redis_client.scan_iter("*")
    )
    for secret in secrets:
        assert secret not in stored
        assert secret[9:] not in stored  # not even the random part
        assert secret not in in_redis
        assert secret not in caplog.text
    assert row(created).hash in stored
