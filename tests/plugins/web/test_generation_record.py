"""GET /api/v1/generation for a generation that searched: its results, engine and cost, from
the gateway's copy at first and from Postgres once metered."""

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from gateway.app import Gateway
from gateway.search import SearchSettings
from tests.accounts.conftest import make_key  # noqa: F401  (fixture)
from tests.gateway.conftest import OPENAI_MODEL, default_models, gateway_settings, publish_catalog
from tests.presets.conftest import openai_client
from tests.servers import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)


def test_generation_shows_search_results_engine_and_the_cost_with_the_search(
    make_key: Any, redis_client: Any, sim: str  # noqa: F811
) -> None:
    key = make_key("ada@example.com", credits="5")
    publish_catalog(redis_client, default_models(sim))
    search = SearchSettings(engine="local", url=f"{sim}/search")
    with serve_asgi(Gateway(gateway_settings(web_search=search))) as url:
        answer = openai_client(url, key).chat.completions.create(
            model=f"{OPENAI_MODEL}:online", max_tokens=16,
            messages=[{"role": "user",
                       "content": "How does Redis persistence and replication work?"}])

    def generation() -> dict[str, Any]:
        data: dict[str, Any] = Client().get(f"/api/v1/generation?id={answer.id}",
                                            HTTP_AUTHORIZATION=f"Bearer {key}").json()["data"]
        return data

    cost = Decimal(str(answer.usage.model_extra["cost"]))
    tokens = answer.usage.prompt_tokens * Decimal("0.00000015") \
        + answer.usage.completion_tokens * Decimal("0.0000006")
    assert cost == tokens + Decimal("0.02")
    for stored in (False, True):  # the gateway's copy in Redis, then the metered row
        if stored:
            call_command("meter", once=True, stdout=io.StringIO())
        data = generation()
        assert data["num_search_results"] == 5
        assert data["web_search_engine"] == "local-corpus"
        assert Decimal(str(data["total_cost"])) == cost
        assert data["model"] == OPENAI_MODEL
