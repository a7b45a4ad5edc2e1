"""The official `openrouter` Python SDK, pointed at a live server, lists models, counts them,
lists a model's endpoints and the providers, and its response models parse."""

import pytest
from openrouter import OpenRouter

from marketplace.loader import DEFAULT_CATALOG, load_catalog_file


@pytest.fixture
def sdk(live_server, transactional_db, redis_client):
    load_catalog_file(DEFAULT_CATALOG)  # commits, then publishes
    with OpenRouter(server_url=live_server.url + "/api/v1", api_key="sk-or-v1-unused") as client:
        yield client


def test_sdk_reads_the_catalog(sdk) -> None:
    page = sdk.models.list()
    assert page.next() is None  # one page: links.next is null
    models = page.result
    ids = [m.id for m in models.data]
    assert len(ids) == 102 and "meta-llama/llama-3.3-70b-instruct:free" not in ids
    assert models.total_count == 102
    assert "meta-llama/llama-3.1-8b-instruct:free" in ids
    gpt = next(m for m in models.data if m.id == "openai/gpt-4o")
    assert gpt.pricing.prompt == "0.0000025"
    assert gpt.architecture.input_modalities == ["text", "image", "file"]

    tools = sdk.models.list(supported_parameters="tools,structured_outputs", max_price=1.0).result
    assert tools.data and all(
        {"tools", "structured_outputs"} <= set(m.supported_parameters)
        and float(m.pricing.prompt) * 1e6 <= 1.0
        for m in tools.data
    )

    assert sdk.models.count().data.count == 102

    endpoints = sdk.endpoints.list(author="meta-llama", slug="llama-3.3-70b-instruct")
    assert len(endpoints.data.endpoints) == 13
    assert {e.tag for e in endpoints.data.endpoints} >= {"deepinfra", "deepinfra/turbo"}

    providers = sdk.providers.list()
    assert {p.slug for p in providers.data} >= {"openai", "groq", "deepinfra"}
