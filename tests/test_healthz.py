"""GET /healthz on the web app and on the gateway report their dependencies."""

import httpx
import pytest
from django.conf import settings

from gateway.app import Gateway
from gateway.config import Settings
from tests.servers import serve_asgi


@pytest.mark.django_db
def test_web_healthz_reports_database_and_redis(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_web_healthz_is_503_when_redis_is_down(client, settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error")
    assert response.json()["database"] == "ok"


def test_gateway_healthz_reports_redis() -> None:
    with serve_asgi(Gateway(Settings(redis_url=settings.REDIS_URL))) as url:
        response = httpx.get(f"{url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "redis": "ok"}


def test_gateway_healthz_is_503_without_redis() -> None:
    with serve_asgi(Gateway(Settings(redis_url="redis://127.0.0.1:1/0"))) as url:
        response = httpx.get(f"{url}/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
