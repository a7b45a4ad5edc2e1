"""Fixtures every test folder shares: real Redis, a headless Chromium."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still work there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Gateways started by tests spool settles (gateway/spool.py) in a directory of this test
# process: never in the checkout, never replayed into another worker's Redis database.
os.environ.setdefault("GATEWAY_SPOOL_DIR", tempfile.mkdtemp(prefix="gateway-spool-"))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _fresh_catalog_cache() -> Iterator[None]:
    """Each test's database starts empty: never serve a previous test's catalog."""
    from marketplace.catalog import forget_catalog

    forget_catalog()
    yield
    forget_catalog()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """This worker's own Redis database, empty at the start of the test."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    # As after a full publish_state: the gateway tells an unknown key from a lost Redis by it.
    client.set("gw:ready", 1)
    yield client
    client.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, tmp_path: Path) -> Iterator[object]:
    """A fresh browser tab; its screenshot is saved in the test's folder when the test ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    tab.screenshot(path=str(tmp_path / "final.png"), full_page=True)
    context.close()
