"""The catalog in headless Chromium: filter the model browser by a supported parameter and a
price bound (htmx swaps the results and the URL follows), open a model page and read its
providers table sorted by price; the same flow without JavaScript; narrow screens."""

from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.loader import DEFAULT_CATALOG, load_catalog_file

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_server, transactional_db, redis_client) -> str:
    load_catalog_file(DEFAULT_CATALOG)  # commits, then publishes
    return live_server.url


def _money(text: str) -> Decimal:
    return Decimal(text.strip().lstrip("$").replace(",", ""))


def test_filter_then_open_a_model(site, page, tmp_path: Path) -> None:
    page.goto(site + "/models")
    count = page.locator("#result-count")
    assert count.inner_text() == "102 models"

    page.get_by_label("tools", exact=True).check()
    page.wait_for_url("**supported_parameters=tools**")
    tools_count = int(count.inner_text().split()[0])
    assert 0 < tools_count < 102

    page.get_by_label("Maximum input price").fill("0.2")
    page.get_by_label("Maximum input price").dispatch_event("change")
    page.wait_for_url("**max_price=0.2**")
    assert "min_price" not in page.url  # empty fields stay out of the shareable URL
    page.wait_for_function(
        f"document.querySelector('#result-count').innerText !== '{tools_count} models'"
    )
    cheap_count = int(count.inner_text().split()[0])
    assert 0 < cheap_count < tools_count
    prices = page.locator(".model-card-price").all_inner_texts()
    for text in prices:
        if "Free" not in text:
            assert _money(text.split(" in")[0]) <= Decimal("0.2"), text
    page.screenshot(path=str(tmp_path / "models-filtered.png"), full_page=True)

    # The filtered URL is linkable: reloading it shows the same selection.
    page.reload()
    assert page.get_by_label("tools", exact=True).is_checked()
    assert count.inner_text() == f"{cheap_count} models"

    page.get_by_role("searchbox", name="Search").press_sequentially("llama 3.3 70b")
    page.wait_for_url("**q=llama%203.3%2070b**")
    page.wait_for_function("document.querySelector('#result-count').innerText === '1 model'")
    page.locator(".model-card h3 a").click()
    page.wait_for_url("**/meta-llama/llama-3.3-70b-instruct")
    rows = page.locator("#providers-table tbody tr")
    assert rows.count() == 13
    inputs = [
        _money(t) for t in page.locator("#providers-table tbody td:nth-child(2)").all_inner_texts()
    ]
    outputs = [
        _money(t) for t in page.locator("#providers-table tbody td:nth-child(3)").all_inner_texts()
    ]
    blended = [i + o for i, o in zip(inputs, outputs, strict=True)]
    assert blended == sorted(blended) and blended[0] < blended[-1]
    assert page.locator("#providers-table tbody td:nth-child(8)").first.inner_text() == "—"

    page.get_by_role("tab", name="Python").click()
    assert page.locator("pre[data-panel=python]").is_visible()
    assert (
        "meta-llama/llama-3.3-70b-instruct" in page.locator("pre[data-panel=python]").inner_text()
    )
    page.screenshot(path=str(tmp_path / "model-page.png"), full_page=True)


def test_filters_work_without_javascript(site, browser, tmp_path: Path) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 860}
    )
    tab = context.new_page()
    tab.goto(site + "/models")
    tab.get_by_label("Free only").check()
    tab.get_by_role("button", name="Apply filters").click()
    tab.wait_for_url("**free=1**")
    assert tab.locator("#result-count").inner_text() == "4 models"
    context.close()


def test_pages_fit_a_phone_screen(site, browser, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    for name, url in [("models", "/models"), ("model", "/openai/gpt-4o"), ("home", "/")]:
        tab.goto(site + url)
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"
        tab.screenshot(path=str(tmp_path / f"phone-{name}.png"), full_page=False)
    context.close()


def test_provider_and_compare_pages_render(site, page, tmp_path: Path) -> None:
    page.goto(site + "/providers")
    page.get_by_role("link", name="DeepInfra").click()
    page.wait_for_url("**/providers/deepinfra")
    assert page.locator("table tbody tr").count() > 5
    models = ["openai/gpt-4o", "anthropic/claude-sonnet-4", "meta-llama/llama-3.3-70b-instruct"]
    page.goto(site + "/compare?" + "&".join(f"models={m}" for m in models))
    assert page.locator(".compare-table thead th").count() == 4
    page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
    page.goto(site + "/")
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
