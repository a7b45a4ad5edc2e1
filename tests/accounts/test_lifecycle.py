"""A change that must stop traffic reaches the real gateway within 2 s, however it is saved:
the model layer publishes, not one view. And a key created while Redis is down still works
once Redis is back."""

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey, PublishOutbox
from accounts.publish import drain_outbox, publish_all
from accounts.tasks import drain_publish_outbox
from config.beat import SCHEDULE
from gateway.app import Gateway
from gateway.config import Settings
from tests.accounts.conftest import row
from tests.servers import free_port, serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)
# Authentication comes before model resolution: a live key gets past it (404 for a model that
# is not in the catalog: 400 or 404), a refused one gets 401 or 403. No catalog or provider needed.
BODY = json.dumps(
    {"model": "nobody/no-such-model", "messages": [{"role": "user", "content": "hi"}]}
)

PAST_AUTH = (400, 404)


def status_with(gateway_url: str, key: str) -> int:
    response = httpx.post(
        f"{gateway_url}/api/v1/chat/completions",
        content=BODY,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    return response.status_code


def seconds_until_refused(gateway_url: str, key: str) -> float:
    start = time.monotonic()
    while status_with(gateway_url, key) not in (401, 403):
        assert time.monotonic() - start < 2, "the gateway still accepts the key"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def gateway_url(settings, redis_client) -> Iterator[str]:
    with serve_asgi(Gateway(Settings(redis_url=settings.REDIS_URL))) as url:
        yield url


def shell_deactivate(key: str) -> None:
    user = row(key).user
    user.is_active = False
    user.save()


def shell_delete_user(key: str) -> None:
    row(key).user.delete()


def shell_disable(key: str) -> None:
    api_key = row(key)
    api_key.disabled = True
    api_key.save()


def shell_expire(key: str) -> None:
    api_key = row(key)
    api_key.expires_at = timezone.now() - timedelta(seconds=1)
    api_key.save()


def shell_delete_key(key: str) -> None:
    row(key).delete()


@pytest.mark.parametrize(
    "change", [shell_deactivate, shell_delete_user, shell_disable, shell_expire, shell_delete_key]
)
def test_a_change_saved_anywhere_stops_the_key_at_the_gateway(gateway_url, ada_key, change):
    assert status_with(gateway_url, ada_key) in PAST_AUTH  # known to (and cached by) the gateway
    change(ada_key)
    assert seconds_until_refused(gateway_url, ada_key) < 2


def test_a_key_past_its_expiry_is_refused_without_any_save(gateway_url, ada_key):
    api_key = row(ada_key)
    api_key.expires_at = timezone.now() + timedelta(seconds=1.5)
    api_key.save()
    assert status_with(gateway_url, ada_key) in PAST_AUTH
    time.sleep(1.5)
    assert seconds_until_refused(gateway_url, ada_key) < 1
    response = httpx.post(
        f"{gateway_url}/api/v1/chat/completions",
        content=BODY,
        headers={"Authorization": f"Bearer {ada_key}", "Content-Type": "application/json"},
    )
    assert response.json()["error"]["message"] == "This API key has expired."


@pytest.fixture
def staff() -> Client:
    root = User.objects.create_superuser("root", "root@example.com", "pw-root-12345")
    client = Client()
    client.force_login(root)
    return client


def test_a_user_deactivated_in_the_admin_is_refused(gateway_url, ada_key, staff):
    ada = row(ada_key).user
    assert status_with(gateway_url, ada_key) in PAST_AUTH
    joined = timezone.localtime(ada.date_joined)
    response = staff.post(
        f"/admin/auth/user/{ada.pk}/change/",
        {
            "username": ada.username,
            "email": ada.email,
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            # is_active left out: the box is unticked
        },
    )
    assert response.status_code == 302, response.content[-3000:]
    assert seconds_until_refused(gateway_url, ada_key) < 2


def test_a_user_deleted_in_the_admin_is_refused(gateway_url, bob_key, staff):
    bob = row(bob_key).user
    assert status_with(gateway_url, bob_key) in PAST_AUTH
    response = staff.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [bob.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=bob.pk).exists()
    assert seconds_until_refused(gateway_url, bob_key) < 2


def test_a_lower_limit_and_privacy_change_reach_redis(ada_key, redis_client):
    from config import gateway_state

    api_key = row(ada_key)
    api_key.limit = 1
    api_key.save()
    assert redis_client.hget(gateway_state.key(api_key.hash), "limit") == b"1000000000"
    privacy = api_key.user.privacy if hasattr(api_key.user, "privacy") else None
    if privacy is None:
        from accounts.models import PrivacySettings

        privacy = PrivacySettings(user=api_key.user)
    privacy.deny_training = True
    privacy.save()
    account = gateway_state.account(api_key.user_id)
    assert redis_client.hget(account, "deny_training") == b"1"
    assert not PublishOutbox.objects.exists()  # published, so nothing left to retry


def test_periodic_jobs_retry_and_republish():
    assert SCHEDULE["drain-publish-outbox"]["schedule"] <= 5
    assert SCHEDULE["republish-state"]["schedule"] <= 600


@pytest.fixture
def own_redis(tmp_path: Path, settings) -> Iterator[tuple[str, list[str], list[subprocess.Popen]]]:
    """A Redis of our own that can be stopped and started again with its data (AOF)."""
    port = free_port()
    argv = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--dir",
        str(tmp_path),
    ]
    servers = [subprocess.Popen(argv, stdout=subprocess.DEVNULL)]
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 5
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    settings.REDIS_URL = url
    try:
        yield url, argv, servers
    finally:
        for server in servers:
            server.terminate()
            server.wait(5)


def test_a_key_created_while_redis_is_down_is_shown_and_works_when_redis_is_back(
    own_redis, ada_key
):
    url, argv, servers = own_redis
    publish_all()  # this Redis knows the account and its first key
    ada = row(ada_key).user
    browser = Client()
    browser.force_login(ada)
    redis.Redis.from_url(url).shutdown()  # persists the AOF, then exits
    servers[0].wait(5)

    page = browser.post("/keys", {"name": "made during the outage", "limit_reset": ""})
    assert page.status_code == 200, page.content[:500]
    html = page.content.decode()
    new_key = html.split('id="new-key" class="mono" value="')[1].split('"')[0]
    assert new_key.startswith("sk-or-v1-") and "made during the outage" in html
    assert ApiKey.objects.filter(name="made during the outage").exists()
    assert PublishOutbox.objects.exists()  # the change waits for Redis
    with pytest.raises(redis.ConnectionError):
        drain_outbox()  # still down: the rows stay for the next run
    assert PublishOutbox.objects.exists()

    servers.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))
    with serve_asgi(Gateway(Settings(redis_url=url))) as gateway_url:
        deadline = time.monotonic() + 5
        while True:  # what beat does every few seconds
            try:
                drain_publish_outbox()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "Redis did not come back"
                time.sleep(0.1)
        assert not PublishOutbox.objects.exists()
        assert status_with(gateway_url, new_key) in PAST_AUTH
