"""Buying credits in Chromium, as a new user meets it: sign up, buy $10 on the local test
checkout (its webhook signed and posted to the real endpoint), spend some through the gateway,
see the charge in the history, then save a card and watch auto top-up fire. Django, the gateway
and the edge run as `make run` serves them; providers are served by the simulator."""

import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.core import mail
from django.core.management import call_command
from openrouter import OpenRouter

from billing import ledger
from billing.models import Purchase, StripeEvent
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from simulator.testing import reset, run_simulator
from tests.servers import serve_router

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EMAIL = "grace@example.com"
PASSWORD = "a long pass phrase 42"
MODEL = "openai/gpt-4o-mini"


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    with run_simulator() as url:
        yield url


@pytest.fixture
def router(live_server, settings, simulator: str, redis_client, tmp_path: Path) -> Iterator[str]:
    reset(simulator)
    settings.SIMULATOR_URL = simulator
    load_catalog_file(DEFAULT_CATALOG)
    with serve_router(live_server.url, tmp_path / "run") as url:
        yield url


def sign_up(page, router: str) -> None:
    page.goto(router + "/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Verify")
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", str(mail.outbox[-1].body))
    assert link, mail.outbox[-1].body
    page.goto(router + link.group(1))
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shoot(page, tmp_path: Path, name: str) -> None:
    """The page at laptop and phone widths."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 860})
        page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})


def test_buy_spend_and_auto_top_up(page, router, tmp_path):
    sign_up(page, router)
    page.goto(router + "/credits")
    assert page.inner_text("#balance") == "$0.00"

    # The fee is shown, apart from the credits, before paying.
    page.fill("input[name=amount]", "10")
    assert page.inner_text("#quote-credits") == "$10.00"
    assert page.inner_text("#quote-fee") == "$0.80"
    assert page.inner_text("#quote-total") == "$10.80"
    page.fill("input[name=amount]", "100")
    assert page.inner_text("#quote-fee") == "$5.50" and page.inner_text("#quote-total") == "$105.50"
    page.fill("input[name=amount]", "10")
    shoot(page, tmp_path, "credits-empty")
    page.click("#buy-button")

    page.wait_for_url("**/credits/test-checkout/**")
    assert "Local test checkout" in page.inner_text(".test-banner")
    assert page.inner_text("#checkout-fee") == "$0.80"
    assert page.inner_text("#checkout-total") == "$10.80"
    shoot(page, tmp_path, "checkout")
    page.click("#pay")

    page.wait_for_url("**/credits/success**")
    page.wait_for_selector("h1:has-text('Credits added')")
    assert page.inner_text("#new-balance") == "$10.00"
    shoot(page, tmp_path, "success")
    for _ in range(3):  # reloading the success page credits nothing more
        page.reload()
    purchase = Purchase.objects.get()
    user_id = purchase.user_id
    assert purchase.status == "paid" and purchase.total == Decimal("10.80")
    assert StripeEvent.objects.get().type == "checkout.session.completed"
    assert ledger.balance(user_id).purchased == Decimal("10")

    # A completion through the edge and the gateway, metered into the ledger.
    out = io.StringIO()
    call_command("create_api_key", email=EMAIL, name="laptop", stdout=out)
    key = out.getvalue().strip()
    call_command("publish_state", stdout=io.StringIO())
    reply = httpx.post(
        router + "/api/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": MODEL, "messages": [{"role": "user", "content": "Hello!"}]},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    cost = Decimal(str(reply.json()["usage"]["cost"]))
    assert cost > 0
    call_command("meter", "--once", stdout=io.StringIO())
    assert ledger.balance(user_id).usage == cost

    page.goto(router + "/credits")
    assert "Usage: 1 generation" in page.inner_text("#history")
    assert "Card purchase" in page.inner_text("#history")
    assert page.inner_text("#purchased") == "$10.00"

    # The SDK reads the same figures as the ledger.
    out = io.StringIO()
    call_command("create_api_key", email=EMAIL, name="admin", management=True, stdout=out)
    sdk = OpenRouter(api_key=out.getvalue().strip(), server_url=router + "/api/v1")
    credits = sdk.credits.get_credits().data
    balance = ledger.balance(user_id)
    assert Decimal(str(credits.total_credits)) == balance.credits
    assert Decimal(str(credits.total_usage)) == balance.usage

    # Receipt of the purchase.
    page.click("#history >> text=Receipt")
    page.wait_for_url("**/credits/receipts/**")
    assert page.inner_text("#receipt-total") == "$10.80"
    shoot(page, tmp_path, "receipt")

    # Auto top-up: save a card, then ask for it below a threshold the balance is already under.
    page.goto(router + "/credits")
    page.click("#save-card")
    page.wait_for_url("**/credits/test-card")
    page.click("#save")
    page.wait_for_url("**/credits")
    assert "ending in 4242" in page.inner_text("#auto-topup")
    page.check("input[name=auto_topup]")
    page.fill("input[name=topup_threshold]", "15")
    page.fill("input[name=topup_amount]", "25")
    page.click("#save-topup")
    page.wait_for_url("**/credits")
    assert "Auto top-up" in page.inner_text("#history")
    assert ledger.balance(user_id).purchased == Decimal("35")
    assert page.inner_text("#purchased") == "$35.00"
    assert Purchase.objects.filter(source="auto_topup", status="paid").count() == 1
    shoot(page, tmp_path, "credits-after")
