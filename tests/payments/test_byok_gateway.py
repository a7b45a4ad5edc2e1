"""BYOK at the gateway: the account's own key is tried first, the answer says so and costs
the fee; a key the provider refuses is reported, marked, and the request falls back."""

import io
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.management import call_command

from billing import byok, ledger
from billing.models import ProviderKey
from gateway.app import Gateway
from gateway.config import Settings
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from simulator.testing import reset, run_simulator, set_knobs
from tests.servers import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)
OWN_KEY = "sk-proj-ada-own-openai-key-000000001234"
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def gateway(settings, redis_client) -> Iterator[str]:
    with run_simulator() as simulator:
        reset(simulator)
        # The simulated OpenAI answers only requests that carry Ada's key.
        set_knobs(simulator, "openai", api_key=OWN_KEY)
        settings.SIMULATOR_URL = simulator
        load_catalog_file(DEFAULT_CATALOG)
        with serve_asgi(Gateway(Settings(redis_url=django_settings.REDIS_URL))) as url:
            yield url


def account(email: str, provider_key: str) -> str:
    out = io.StringIO()
    call_command("create_api_key", email=email, credits="5", stdout=out)
    byok.create(User.objects.get(email=email).pk, "openai", provider_key)
    call_command("publish_state", stdout=io.StringIO())
    return out.getvalue().strip()


def ask(gateway: str, key: str, provider: dict) -> dict:
    reply = httpx.post(
        gateway + "/api/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "model": MODEL,
            "messages": [{"role": "user", "content": "Hi"}],
            "provider": provider,
        },
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_own_key_first_free_within_the_allowance_then_the_fee(gateway, monkeypatch):
    key = account("ada@example.com", OWN_KEY)
    answer = ask(gateway, key, {"only": ["openai"]})
    usage = answer["usage"]
    assert answer["provider"] == "OpenAI" and usage["is_byok"] is True
    assert usage["cost"] == 0 and usage["cost_details"]["upstream_inference_cost"] > 0

    # Past the monthly allowance the fee is 5% of the list price, charged to the credits.
    monkeypatch.setenv("BYOK_FREE_MONTHLY_USD", "0")
    usage = ask(gateway, key, {"only": ["openai"]})["usage"]
    listed = Decimal(str(usage["cost_details"]["upstream_inference_cost"]))
    assert Decimal(str(usage["cost"])) == (listed * Decimal("0.05")).quantize(Decimal("1e-9"))
    call_command("meter", "--once", stdout=io.StringIO())
    ada = User.objects.get(email="ada@example.com")
    assert ledger.balance(ada.pk).usage == Decimal(str(usage["cost"]))


def test_a_refused_key_is_marked_and_the_request_falls_back(gateway, redis_client):
    key = account("bob@example.com", "sk-proj-bob-wrong-key-00000000000000")
    # The shared OpenAI endpoint has no key either: Azure's shared capacity answers.
    answer = ask(gateway, key, {"order": ["azure"]})
    assert answer["provider"] != "OpenAI" and answer["usage"]["is_byok"] is False
    assert byok.mark_rejected() == 1
    row = ProviderKey.objects.get()
    assert row.rejected_at is not None
    # Republished without it: the gateway stops trying it.
    assert redis_client.get(byok.redis_key(row.user_id)) is None
