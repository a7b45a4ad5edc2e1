"""Accounts fixtures: people and their keys, made the way operators make them."""

import io
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.keys import hash_key
from accounts.models import ApiKey

MakeKey = Callable[..., str]


@pytest.fixture
def make_key(db: None, redis_client: redis.Redis) -> MakeKey:
    """`python manage.py create_api_key` as a function: returns the printed key."""

    def make(email: str = "ada@example.com", **options: Any) -> str:
        out = io.StringIO()
        call_command("create_api_key", email=email, stdout=out, **options)
        return out.getvalue().strip()

    return make


@pytest.fixture
def ada_key(make_key: MakeKey) -> str:
    return make_key("ada@example.com", name="Ada's laptop", credits="25")


@pytest.fixture
def ada_management_key(make_key: MakeKey, ada_key: str) -> str:
    return make_key("ada@example.com", name="Ada's admin", management=True)


@pytest.fixture
def bob_key(make_key: MakeKey) -> str:
    return make_key("bob@example.com", name="Bob's key")


@pytest.fixture
def ada(ada_key: str) -> User:
    return User.objects.get(email="ada@example.com")


def row(key: str) -> ApiKey:
    return ApiKey.objects.get(hash=hash_key(key))


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}
