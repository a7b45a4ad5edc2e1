"""`GET /api/v1/key` reports the free-model requests the gateway really counted."""

import io
from typing import Any

import httpx
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from gateway.app import Gateway
from gateway.config import Settings
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from tests.servers import serve_asgi

FREE = "meta-llama/llama-3.1-8b-instruct:free"


def test_key_reports_real_free_model_counts(transactional_db: None, redis_client: Any,
                                            sim: str, settings: Any):
    settings.SIMULATOR_URL = sim
    load_catalog_file(DEFAULT_CATALOG)
    out = io.StringIO()
    call_command("create_api_key", email="ada@example.com", credits="1", stdout=out)
    key = out.getvalue().strip()
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    before = Client().get("/api/v1/key", **auth).json()["data"]
    assert before["free_model_daily_requests"] == {"limit": 50, "remaining": 50, "used": 0}

    with serve_asgi(Gateway(Settings(redis_url=django_settings.REDIS_URL))) as url:
        for _ in range(3):
            response = httpx.post(url + "/api/v1/chat/completions", timeout=30,
                                  headers={"authorization": f"Bearer {key}"},
                                  json={"model": FREE,
                                        "messages": [{"role": "user", "content": "hi"}]})
            assert response.status_code == 200, response.text

    data = Client().get("/api/v1/key", **auth).json()["data"]
    assert data["free_model_daily_requests"] == {"limit": 50, "remaining": 47, "used": 3}
    assert data["free_model_minute_requests"] == {"limit": 20, "remaining": 17, "used": 3}
    assert data["is_free_tier"] is True
