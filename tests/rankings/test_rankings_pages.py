"""/rankings, /apps and an app page in a browser, on seeded demo data plus real rows."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from rankings.models import App
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)


def shots(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()  # charts laid out at phone width, as a phone would load them
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(tmp_path / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})


def test_empty_pages_say_how_to_get_data(page, live_server, redis_client) -> None:
    # redis_client: an empty Redis, so no page cached by an earlier test of this worker (under
    # a rankings version it published) stands in for the empty instance.
    page.goto(live_server.url + "/rankings")
    assert "seed_usage" in page.inner_text("#rankings-empty")
    page.goto(live_server.url + "/apps")
    assert "HTTP-Referer" in page.inner_text("#apps-empty")


def test_rankings_apps_and_app_page(page, live_server, tmp_path: Path) -> None:
    page.set_default_timeout(30_000)  # plotly is large and the machine may be busy
    owner = User.objects.create_user("owner", "owner@example.com", "pw-owner-123456")
    now = datetime.now(UTC)
    Generation.objects.bulk_create([
        Generation(id=f"gen-page-{n}", user=owner, model="openai/gpt-4o", provider="openai",
                   tokens_prompt=10**7, tokens_completion=10**6, cost=Decimal("1"),
                   created_at=now - timedelta(hours=n + 1), http_referer="https://mine.example/x",
                   app_title="Mine Writer", app_categories=["writing-assistant"])
        for n in range(3)
    ] + [Generation(id="gen-page-local", user=owner, model="openai/gpt-4o", provider="openai",
                    tokens_prompt=5, cost=Decimal(0), created_at=now,
                    http_referer="http://localhost:5173/", app_title="Local Thing")])
    call_command("seed_usage", generations=4000, days=30, accounts=20, apps=60, models=8)

    page.goto(live_server.url + "/rankings")
    assert "Synthetic demo data" in page.inner_text("#synthetic-notice")
    page.wait_for_selector("#weekly-models .main-svg")
    page.wait_for_selector("#weekly-authors .main-svg")
    rows = page.locator("#leaderboard tbody tr")
    assert rows.first.inner_text().startswith("1\topenai/gpt-4o")
    assert "Mine Writer" in page.inner_text("#top-apps")
    assert "Local Thing" not in page.content()
    page.click("label:has-text('Dollars')")
    page.click("text=This month")
    page.wait_for_load_state()
    assert "This month" in page.inner_text("[aria-current=true]")
    shots(page, tmp_path, "rankings")

    page.goto(live_server.url + "/apps")
    assert page.locator("#app-cards .app-card").count() == 24
    page.fill("input[name=q]", "mine")
    page.click("form[role=search] button")
    page.wait_for_load_state()
    assert page.locator("#app-cards .app-card").count() == 1
    page.goto(live_server.url + "/apps")
    shots(page, tmp_path, "apps")

    app = App.objects.get(origin="https://mine.example")
    page.goto(live_server.url + f"/apps/{app.pk}")
    page.wait_for_selector("#app-usage .main-svg")
    assert "openai/gpt-4o" in page.inner_text("#app-models")
    assert page.locator("#app-owner").count() == 0  # not signed in: no editing
    shots(page, tmp_path, "app")

    signed_in = Client()
    signed_in.force_login(owner)
    page.context.add_cookies([{"name": "sessionid", "url": live_server.url,
                               "value": signed_in.cookies["sessionid"].value}])
    page.goto(live_server.url + f"/apps/{app.pk}")
    page.fill("#app-owner textarea", "Drafts essays with you.")
    page.check("#app-owner input[type=checkbox]")
    page.click("#app-owner button")
    page.wait_for_load_state()
    app.refresh_from_db()
    assert app.hidden and app.description == "Drafts essays with you."
    page.goto(live_server.url + "/apps?q=mine")
    assert page.locator("#app-cards .app-card").count() == 0
