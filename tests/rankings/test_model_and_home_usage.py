"""Model pages show tokens over time, the apps using the model and its quality panel; the home
page shows trending models and top apps from real usage, or says how to get some."""

from pathlib import Path

import pytest
from django.core.management import call_command

from rankings.models import ModelRanking

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_without_usage_says_how_to_get_it(page, live_server, redis_client) -> None:
    call_command("load_catalog", verbosity=0)
    page.goto(live_server.url + "/")
    assert "No usage yet" in page.inner_text("#trending")
    assert "HTTP-Referer" in page.inner_text("#top-apps")


def test_model_page_and_home_from_usage(page, live_server, tmp_path: Path) -> None:
    page.set_default_timeout(30_000)
    call_command("load_catalog", verbosity=0)
    call_command("seed_usage", generations=3000, days=20, accounts=10, apps=20, models=5)
    top = ModelRanking.objects.filter(period="month").order_by("rank").first()
    assert top is not None
    page.goto(live_server.url + f"/{top.model}")
    page.wait_for_selector("#model-usage .main-svg")
    assert page.locator("#model-apps li").count() >= 1
    quality = page.inner_text("#quality")
    assert "Truncated" in quality and "Refused" in quality
    page.screenshot(path=str(tmp_path / "model-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(tmp_path / "model-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})

    page.goto(live_server.url + "/")
    assert page.locator("#trending li a").count() >= 1
    assert page.locator("#top-apps li a").count() >= 1
    assert "synthetic demo data" in page.inner_text("#trending")
