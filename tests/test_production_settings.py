"""Safe to run in production: required secrets, HTTPS settings, no simulator, no secret as a
provider key."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from gateway.catalog import Endpoint as GatewayEndpoint
from gateway.upstream import api_key
from marketplace.catalog import forget_catalog
from marketplace.models import Provider
from marketplace.publish import build_snapshot
from tests.catalog.conftest import tiny_catalog, write_catalog

__all__ = ["write_catalog"]

ROOT = Path(__file__).resolve().parents[1]
PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k) for k in ['DEBUG', 'ALLOWED_HOSTS', "
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', "
    "'SECURE_PROXY_SSL_HEADER', 'SECURE_SSL_REDIRECT', 'SIMULATOR_ENABLED']}))"
)


def production(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS")}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"ALLOWED_HOSTS": "market.example.com"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "k" * 50}, "ALLOWED_HOSTS must be set"),
        ({"SECRET_KEY": "short", "ALLOWED_HOSTS": "a.example"}, "at least 32 characters"),
    ],
)
def test_production_settings_refuse_to_start_without_their_secrets(env, missing):
    result = production(**env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_settings_are_https_only_and_without_the_simulator():
    result = production(SECRET_KEY="s" * 50, ALLOWED_HOSTS="market.example.com")
    assert result.returncode == 0, result.stderr[-2000:]
    values = json.loads(result.stdout)
    assert values == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["market.example.com"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SIMULATOR_ENABLED": False,
    }


def two_providers() -> dict:
    """The tiny catalog, its model offered also by a provider that only the simulator serves."""
    data = tiny_catalog()
    data["providers"].append(
        {
            **data["providers"][0],
            "slug": "acme-cloud",
            "name": "Acme Cloud",
            "display_name": "Acme Cloud",
            "base_url": None,
            "api_key_env": None,
        }
    )
    data["models"][0]["endpoints"].append(
        {**data["models"][0]["endpoints"][0], "provider": "acme-cloud"}
    )
    return data


@pytest.fixture
def loaded_two(db, write_catalog, redis_client):
    call_command("load_catalog", str(write_catalog(two_providers())))
    forget_catalog()


def providers_in_snapshot() -> set[str]:
    endpoints = build_snapshot()["models"]["acme/rocket-7b"]["endpoints"]
    return {e["provider"] for e in endpoints}


def test_without_the_simulator_a_provider_without_base_url_is_not_routable(loaded_two):
    assert providers_in_snapshot() == {"local-vllm", "acme-cloud"}
    page = Client().get("/acme/rocket-7b").content.decode()
    assert ">simulated</span>" in page and "not routable" not in page

    with override_settings(SIMULATOR_ENABLED=False):
        assert providers_in_snapshot() == {"local-vllm"}
        forget_catalog()
        page = Client().get("/acme/rocket-7b").content.decode()
    assert "not routable" in page and ">simulated</span>" not in page


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "lower_api_key"])
def test_load_catalog_refuses_a_gateway_secret_as_a_provider_key(db, write_catalog, name):
    data = tiny_catalog()
    data["providers"][0]["api_key_env"] = name
    with pytest.raises(CommandError, match="must name a variable of the form <NAME>_API_KEY"):
        call_command("load_catalog", str(write_catalog(data)))
    assert not Provider.objects.filter(slug="local-vllm").exists()


def test_the_admin_refuses_a_gateway_secret_as_a_provider_key(loaded_two):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-root-12345")
    client = Client()
    client.force_login(admin)
    provider = Provider.objects.get(slug="local-vllm")
    url = f"/admin/marketplace/provider/{provider.pk}/change/"
    form = {
        "slug": provider.slug,
        "name": provider.name,
        "display_name": provider.display_name,
        "enabled": "on",
        "api_format": "openai",
        "base_url": provider.base_url,
        "api_key_env": "SECRET_KEY",
        "can_abort": "unknown",
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "must name a variable of the form" in response.content.decode()
    provider.refresh_from_db()
    assert provider.api_key_env == "LOCAL_VLLM_API_KEY"


def test_the_gateway_never_sends_one_of_its_own_secrets_upstream(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "the-web-secret")
    monkeypatch.setenv("ACME_API_KEY", "sk-acme")
    endpoint = GatewayEndpoint.__new__(GatewayEndpoint)
    object.__setattr__(endpoint, "api_key_env", "SECRET_KEY")
    assert api_key(endpoint) is None
    object.__setattr__(endpoint, "api_key_env", "ACME_API_KEY")
    assert api_key(endpoint) == "sk-acme"
