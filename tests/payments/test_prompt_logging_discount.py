"""An account that opted in to prompt logging pays 1% less per generation: the gateway's
`usage.cost` and the ledger's charge agree, to the nano-dollar."""

import io
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal

import httpx
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.models import PrivacySettings
from accounts.publish import publish_account
from billing import ledger
from gateway.app import Gateway
from gateway.config import Settings
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from simulator.testing import reset, run_simulator
from tests.servers import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)
BODY = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say something about logs."}],
    "provider": {"only": ["openai"]},
}


@pytest.fixture
def gateway(settings, redis_client) -> Iterator[str]:
    with run_simulator() as simulator:
        reset(simulator)
        settings.SIMULATOR_URL = simulator
        load_catalog_file(DEFAULT_CATALOG)
        with serve_asgi(Gateway(Settings(redis_url=django_settings.REDIS_URL))) as url:
            yield url


def key_for(email: str, prompt_logging: bool) -> str:
    out = io.StringIO()
    call_command("create_api_key", email=email, credits="5", stdout=out)
    user = User.objects.get(email=email)
    PrivacySettings.objects.update_or_create(user=user, defaults={"prompt_logging": prompt_logging})
    publish_account(user.pk)
    return out.getvalue().strip()


def ask(gateway: str, key: str) -> Decimal:
    reply = httpx.post(
        gateway + "/api/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json=BODY,
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return Decimal(str(reply.json()["usage"]["cost"]))


def test_prompt_logging_takes_one_percent_off_in_the_answer_and_the_ledger(gateway):
    plain_key = key_for("plain@example.com", prompt_logging=False)
    logged_key = key_for("logged@example.com", prompt_logging=True)
    call_command("publish_state", stdout=io.StringIO())
    plain = ask(gateway, plain_key)
    logged = ask(gateway, logged_key)

    assert plain > 0
    assert logged == (plain * Decimal("0.99")).quantize(Decimal("1e-9"), ROUND_HALF_EVEN)
    call_command("meter", "--once", stdout=io.StringIO())
    assert ledger.balance(User.objects.get(email="plain@example.com").pk).usage == plain
    assert ledger.balance(User.objects.get(email="logged@example.com").pk).usage == logged


def test_the_discount_is_taken_before_rounding_and_free_stays_free():
    from gateway.pricing import Usage, cost
    from tests.gateway.test_pricing import priced

    paid = priced(prompt="0.0000001", completion="0.00000032")
    usage = Usage(prompt_tokens=42, completion_tokens=128)
    assert cost(paid, usage).total == Decimal("0.00004516")
    discounted = cost(paid, usage, prompt_logging=True)
    assert discounted.total == Decimal("0.0000447084").quantize(Decimal("1e-9"), ROUND_HALF_EVEN)
    # The upstream's own prices are unchanged: only the charge is discounted.
    assert discounted.prompt == cost(paid, usage).prompt
    free = priced(prompt="0", completion="0")
    assert cost(free, usage, prompt_logging=True).total == 0
