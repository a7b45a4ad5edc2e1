"""A key disabled or deleted on the Django side stops working at the real gateway within 1 s."""

import json
import time

import httpx
import pytest
from django.conf import settings

from accounts import keys as key_rules
from gateway.app import Gateway
from gateway.config import Settings
from tests.accounts.conftest import row
from tests.servers import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)
# Authentication comes before model resolution: a live key gets past it (404/400 for a model
# that is not in the catalog), a dead one gets 401. No catalog or provider needed.
BODY = json.dumps(
    {"model": "nobody/no-such-model", "messages": [{"role": "user", "content": "hi"}]}
)


@pytest.fixture
def gateway_url(redis_client):
    with serve_asgi(Gateway(Settings(redis_url=settings.REDIS_URL))) as url:
        yield url


def status_with(gateway_url: str, key: str) -> int:
    response = httpx.post(
        f"{gateway_url}/api/v1/chat/completions",
        content=BODY,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    return response.status_code


def seconds_until_refused(gateway_url: str, key: str) -> float:
    start = time.monotonic()
    while status_with(gateway_url, key) != 401:
        assert time.monotonic() - start < 3, "the gateway still accepts the key"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.mark.parametrize("revoke", ["disable", "delete"])
def test_revoked_keys_are_refused_within_a_second(gateway_url, ada_key, revoke):
    assert status_with(gateway_url, ada_key) != 401  # the gateway knows and caches it
    if revoke == "disable":
        key_rules.disable_key(row(ada_key))
    else:
        key_rules.delete_key(row(ada_key))
    assert seconds_until_refused(gateway_url, ada_key) < 1.0
