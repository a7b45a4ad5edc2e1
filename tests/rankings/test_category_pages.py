"""Prompt categories on the pages: /rankings lists top models per category, a model page shows
its category mix as a chart; signed-in users reach /activity from the navigation, at laptop and
phone widths."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from rankings import categories
from rankings.categories import LoggedPrompt, classify_prompts
from rankings.refresh import refresh_rankings
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)

CODER, WRITER = "openai/gpt-4o", "anthropic/claude-sonnet-4.5"
PROMPTS = [
    (CODER, "Debug this Python function, it raises KeyError on an empty dict"),
    (CODER, "Write a SQL query that joins orders and customers"),
    (CODER, "Translate this README into German"),
    (WRITER, "Write a short story about a lighthouse keeper"),
    (WRITER, "Compose a haiku about rain"),
    (WRITER, "Fix the bug in my React component's useEffect"),
]


def shots(page, tmp_path: Path, name: str, ready: str) -> None:
    page.wait_for_selector(ready)
    page.screenshot(path=str(tmp_path / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector(ready)
    page.screenshot(path=str(tmp_path / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})


@pytest.fixture
def classified(redis_client) -> User:
    call_command("load_catalog", verbosity=0)
    user = User.objects.create_user("ada", "ada@example.com", "pw-ada-123456789")
    now = datetime.now(UTC)
    rows = [Generation(id=f"gen-page-cat-{n}", user=user, model=model, provider="p",
                       tokens_prompt=1000 * (n + 1), tokens_completion=100, cost=Decimal("0.01"),
                       created_at=now - timedelta(hours=n + 1))
            for n, (model, _) in enumerate(PROMPTS)]
    Generation.objects.bulk_create(rows)
    refresh_rankings()
    classify_prompts([LoggedPrompt(g.id, g.model, g.created_at,
                                   g.tokens_prompt + g.tokens_completion, text)
                      for g, (_, text) in zip(rows, PROMPTS, strict=True)])
    categories.run()
    return user


def test_rankings_lists_top_models_by_prompt_category(page, live_server, classified,
                                                      tmp_path: Path) -> None:
    page.set_default_timeout(30_000)
    page.goto(live_server.url + "/rankings")
    section = page.locator("#prompt-categories")
    cards = {card.locator("h3").inner_text(): card.locator("li a").all_inner_texts()
             for card in section.locator(".card").all()}
    assert cards["Programming"] == [WRITER, CODER]  # the writer's one bug fix had more tokens
    assert cards["Creative writing"] == [WRITER]
    assert cards["Translation"] == [CODER]
    shots(page, tmp_path, "rankings", "#prompt-categories")


def test_model_page_shows_its_category_mix(page, live_server, classified,
                                           tmp_path: Path) -> None:
    page.set_default_timeout(30_000)
    page.goto(live_server.url + f"/{CODER}")
    page.wait_for_selector("#category-mix-chart .main-svg")
    assert "3 prompts" in page.inner_text("#category-mix")
    labels = page.locator("#category-mix-chart .ytick text").all_text_contents()
    assert sorted(labels) == ["Programming", "Translation"]
    shots(page, tmp_path, "model", "#category-mix-chart .main-svg")


def test_activity_in_the_navigation_at_both_widths(page, live_server, classified,
                                                   tmp_path: Path) -> None:
    client = Client()
    client.force_login(classified)
    page.context.add_cookies([{"name": "sessionid", "url": live_server.url,
                               "value": client.cookies["sessionid"].value}])
    page.goto(live_server.url + "/models")
    page.click("nav.site-nav a[href='/activity']")
    page.wait_for_url("**/activity")
    assert page.get_attribute("nav.site-nav a[href='/activity']", "aria-current") == "page"
    page.screenshot(path=str(tmp_path / "nav-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/models")
    assert not page.is_visible("nav.site-nav a[href='/activity']")  # folded into the menu
    page.click("label.nav-toggle-label")
    page.click("nav.site-nav a[href='/activity']")
    page.wait_for_url("**/activity")
    page.click("label.nav-toggle-label")
    page.screenshot(path=str(tmp_path / "nav-390.png"))
    page.goto(live_server.url + "/accounts/logout/")
    context = page.context
    context.clear_cookies()
    page.goto(live_server.url + "/models")
    assert page.locator("nav.site-nav a[href='/activity']").count() == 0
