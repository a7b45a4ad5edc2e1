"""The whole PKCE flow in Chromium, driven through the example third-party app, against the
router as users reach it: Django and the gateway behind the real edge on one origin, the
shipped catalog served by the simulator."""

import asyncio
import importlib.util
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from accounts.models import ApiKey
from accounts.usage import usage_of
from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from simulator.testing import recent_requests, reset, run_simulator
from tests.servers import free_port, serve_router

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "oauth_app" / "app.py"
MODEL = "openai/gpt-4o-mini"


def load_example():
    spec = importlib.util.spec_from_file_location("oauth_example_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE_APP = load_example()


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    with run_simulator() as url:
        yield url


@pytest.fixture
def catalog(settings, simulator: str, redis_client) -> str:
    """The shipped catalog, its providers pointing at the simulator (published on commit)."""
    reset(simulator)
    settings.SIMULATOR_URL = simulator
    load_catalog_file(DEFAULT_CATALOG)
    return simulator


@pytest.fixture
def router(live_server, catalog: str, tmp_path: Path) -> Iterator[str]:
    """One origin, as `make run` serves it: the edge routes completions to the gateway and
    everything else (/auth, /api/v1/auth/keys, /api/v1/key, sign-in) to Django."""
    with serve_router(live_server.url, tmp_path / "run") as url:
        yield url


@pytest.fixture
def example_app(router: str) -> Iterator[str]:
    """The example app on its own loopback port, its one ROUTER_URL being the edge."""
    app = EXAMPLE_APP.create_app(router, MODEL)
    port, loop = free_port(), asyncio.new_event_loop()
    runner = web.AppRunner(app)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def ada_with_password(make_key) -> str:
    """Ada has an account on the router with $5 of credits, which the app will spend."""
    make_key("ada@example.com", password="a long pass phrase 42", credits="5")
    return "ada@example.com"


def sign_in_on_the_router(page, email: str) -> None:
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "a long pass phrase 42")
    page.click("button[type=submit]")


def test_allow_gives_the_app_a_working_key_of_the_user(
    page, simulator, example_app, ada_with_password, tmp_path
):
    page.goto(example_app)
    page.click("#signin")
    page.wait_for_url("**/accounts/login/**")
    sign_in_on_the_router(page, ada_with_password)

    page.wait_for_url("**/auth?**")
    assert "Notes demo" in page.inner_text("h1")
    assert "http://127.0.0.1" in page.inner_text(".consent")
    page.fill("input[name=limit]", "5")
    page.select_option("select[name=limit_reset]", "monthly")
    page.screenshot(path=str(tmp_path / "consent.png"), full_page=True)
    page.click("button[value=allow]")

    page.wait_for_url(example_app + "/callback**")
    page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)
    result = page.inner_text("#result")
    key = ApiKey.objects.get(oauth_app__isnull=False)
    assert key.user.email == "ada@example.com" and key.name == "Notes demo"
    assert str(key.limit) == "5.000000000" and key.limit_reset == "monthly"
    assert f"user_{key.user_id}" in result and page.inner_text("#label") == key.label

    # The app's completion went through the edge to the gateway, which sent it upstream once;
    # the text shown is exactly what that provider answers to the same request.
    [upstream] = recent_requests(simulator)
    assert upstream["status"] == 200 and upstream["completion_tokens"] > 0
    assert page.inner_text("#completion") == answer_of(simulator, upstream)
    # The key minted through OAuth paid for it, and the app shows the same cost.
    spent = usage_in_usd(key)
    assert spent > 0
    assert Decimal(page.inner_text("#cost").removeprefix("$")) == Decimal(str(spent))


def answer_of(simulator: str, upstream: dict) -> str:
    """The simulator's answer to the example app's request, asked directly (it is
    deterministic for a provider, model and conversation)."""
    body = {**EXAMPLE_APP.completion_request(MODEL), "model": upstream["model"]}
    response = httpx.post(f"{simulator}/{upstream['provider']}/v1/chat/completions", json=body)
    return response.raise_for_status().json()["choices"][0]["message"]["content"]


def usage_in_usd(key: ApiKey) -> float:
    """The key's usage as `GET /api/v1/key` reports it, once the gateway has settled it."""
    deadline = time.monotonic() + 2
    while (usage := usage_of([key])[key.hash].total) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    return usage


def test_deny_sends_the_user_back_with_access_denied(page, example_app, ada_with_password):
    page.goto(example_app + "/login")
    sign_in_on_the_router(page, ada_with_password)
    page.wait_for_url("**/auth?**")
    page.click("button[value=deny]")
    page.wait_for_url(example_app + "/callback**")
    assert page.inner_text("#result") == "Sign-in cancelled: access_denied"
    assert not ApiKey.objects.filter(oauth_app__isnull=False).exists()


def test_connected_apps_lists_and_revokes_the_apps_key(
    page, router, example_app, ada_with_password, tmp_path
):
    page.goto(example_app + "/login")
    sign_in_on_the_router(page, ada_with_password)
    page.wait_for_url("**/auth?**")
    page.click("button[value=allow]")
    page.wait_for_url(example_app + "/callback**")

    page.goto(router + "/connected-apps")
    assert "Notes demo" in page.inner_text("table") and "http://127.0.0.1" in page.inner_text(
        "table"
    )
    page.screenshot(path=str(tmp_path / "connected-apps.png"), full_page=True)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("text=Revoke")
    page.wait_for_selector("text=No connected apps")
    assert not ApiKey.objects.filter(oauth_app__isnull=False).exists()
