"""Presets fixtures: an account made by the operators' command, the gateway in front of the
simulator (tests/gateway's helpers), and presets saved the way the pages and the API save them."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from openai import OpenAI

from gateway.app import Gateway
from presets.rules import clean_config, save_version
from tests.accounts.conftest import make_key  # noqa: F401  (fixture)
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    default_models,
    gateway_settings,
    publish_catalog,
    sim,
    simulator,
    usage_events,
)
from tests.servers import serve_asgi


@pytest.fixture
def ada_key(make_key: Any) -> str:  # noqa: F811
    return str(make_key("ada@example.com", name="Ada's laptop", credits="25"))


@pytest.fixture
def ada(ada_key: str) -> User:
    return User.objects.get(email="ada@example.com")


@pytest.fixture
def gateway_url(redis_client: Any, sim: str) -> Iterator[str]:  # noqa: F811
    publish_catalog(redis_client, default_models(sim))
    with serve_asgi(Gateway(gateway_settings())) as url:
        yield url


def openai_client(gateway_url: str, key: str) -> Any:
    return OpenAI(base_url=gateway_url + "/api/v1", api_key=key, max_retries=0)


def save(user: User, slug: str, **body: Any) -> Any:
    config, system_prompt = clean_config(body)
    return save_version(user, slug, config, system_prompt, name=slug.title())


@pytest.fixture
def catalog_rows(db: None, redis_client: Any) -> None:
    """The shipped catalog in Postgres, so that model ids can be checked."""
    from marketplace.loader import DEFAULT_CATALOG, load_catalog_file

    load_catalog_file(DEFAULT_CATALOG)
