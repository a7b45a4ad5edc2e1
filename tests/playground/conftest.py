"""The playground against the stack as users reach it: Django and the gateway behind the real
edge on one origin, the shipped catalog served by the simulator."""

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import call_command

from marketplace.loader import DEFAULT_CATALOG, load_catalog_file
from simulator.testing import reset, run_simulator
from tests.servers import serve_router

PASSWORD = "a long pass phrase 42"
PAID = "openai/gpt-4o-mini"
OTHER = "anthropic/claude-3.5-haiku"
FREE = "meta-llama/llama-3.1-8b-instruct:free"
TEXT_ONLY = "meta-llama/llama-3.1-8b-instruct"


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    with run_simulator() as url:
        yield url


@pytest.fixture
def catalog(settings: Any, simulator: str, redis_client: Any) -> str:
    reset(simulator)
    settings.SIMULATOR_URL = simulator
    load_catalog_file(DEFAULT_CATALOG)
    return simulator


@pytest.fixture
def router(live_server: Any, catalog: str, tmp_path: Path) -> Iterator[str]:
    """One public origin: completions go to the gateway, everything else to Django."""
    with serve_router(live_server.url, tmp_path / "run") as url:
        yield url


MakeUser = Callable[..., str]


@pytest.fixture
def make_user(db: None) -> MakeUser:
    """An account with a password (and credits when given); returns an ordinary API key."""

    def make(email: str = "ada@example.com", credits: str | None = "10") -> str:
        out = io.StringIO()
        options: dict[str, Any] = {"email": email, "password": PASSWORD, "stdout": out}
        if credits:
            options["credits"] = credits
        call_command("create_api_key", **options)
        return out.getvalue().strip()

    return make


def sign_in(page: Any, router: str, email: str = "ada@example.com", then: str = "/playground"
            ) -> None:
    page.goto(f"{router}/accounts/login/?next={quote(then)}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{then.split('?')[0]}**")
