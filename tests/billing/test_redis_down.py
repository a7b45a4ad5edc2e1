"""Redis down or stalled: JSON APIs answer 503 in the error shape, pages a readable 503."""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)

DEAD = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert int(response["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == 503 and "unavailable" in error["message"]


@pytest.mark.parametrize(
    "path", ["/api/v1/key", "/api/v1/keys", "/api/v1/generation?id=gen-123-notmeteredyet"]
)
def test_apis_that_need_redis_answer_503_in_the_error_shape(path, ada_management_key):
    with override_settings(REDIS_URL=DEAD):
        assert_unavailable(Client().get(path, HTTP_AUTHORIZATION=f"Bearer {ada_management_key}"))


def test_creating_a_key_through_the_api_is_not_a_500(ada_management_key):
    with override_settings(REDIS_URL=DEAD):
        response = Client().post(
            "/api/v1/keys",
            {"name": "x"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {ada_management_key}",
        )
    assert response.status_code in (201, 503), response.content[:300]


def test_what_postgres_serves_still_answers(ada_management_key):
    with override_settings(REDIS_URL=DEAD):
        response = Client().get(
            "/api/v1/credits", HTTP_AUTHORIZATION=f"Bearer {ada_management_key}"
        )
    assert response.status_code == 200
    assert response.json()["data"] == {"total_credits": 25.0, "total_usage": 0.0}


def test_a_page_that_needs_redis_shows_a_readable_503(ada_management_key):
    ada = User.objects.get(email="ada@example.com")
    client = Client()
    client.force_login(ada)
    with override_settings(REDIS_URL=DEAD):
        response = client.get("/keys")
    assert response.status_code in (200, 503)
    if response.status_code == 503:
        assert b"Temporarily unavailable" in response.content
        assert response["Retry-After"]


@pytest.fixture
def stalled_redis(tmp_path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    ping = ["redis-cli", "-p", str(port), "ping"]
    while subprocess.run(ping, capture_output=True).stdout != b"PONG\n":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGSTOP)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.terminate()
        server.wait(5)


def test_a_stalled_redis_gives_503_within_the_client_timeout(ada_management_key, stalled_redis):
    started = time.monotonic()
    with override_settings(REDIS_URL=stalled_redis):
        assert_unavailable(
            Client().get("/api/v1/key", HTTP_AUTHORIZATION=f"Bearer {ada_management_key}")
        )
    assert time.monotonic() - started < 8


def test_credits_show_usage_the_meter_has_not_persisted_yet(ada_management_key, redis_client):
    from billing.ledger import record_usage
    from config import gateway_state

    ada = User.objects.get(email="ada@example.com")
    record_usage([(ada.pk, "gen-1", Decimal("1.5"))])
    auth = f"Bearer {ada_management_key}"
    response = Client().get("/api/v1/credits", HTTP_AUTHORIZATION=auth)
    assert response.json()["data"]["total_usage"] == 1.5
    redis_client.hset(gateway_state.account(ada.pk), "spent", 1_750_000_000)
    assert Client().get("/api/v1/credits", HTTP_AUTHORIZATION=auth).json()["data"] == {
        "total_credits": 25.0,
        "total_usage": 1.75,
    }
