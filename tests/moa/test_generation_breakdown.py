"""GET /api/v1/generation for a mixture's parent: the breakdown of its sub-generations."""

from decimal import Decimal

import pytest
from django.test import Client

from gateway.app import Gateway
from tests.accounts.conftest import make_key  # noqa: F401  (fixture)
from tests.gateway.conftest import gateway_settings, publish_catalog
from tests.moa.conftest import LLAMA, MIXTRAL, QWEN, mixture_models
from tests.presets.conftest import openai_client
from tests.servers import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True)


def test_parent_generation_lists_model_provider_tokens_cost_and_latency_per_sub_call(
    make_key, redis_client, sim  # noqa: F811
):
    key = make_key("ada@example.com", credits="5")
    publish_catalog(redis_client, mixture_models(sim))
    with serve_asgi(Gateway(gateway_settings())) as url:
        answer = openai_client(url, key).chat.completions.create(
            model="openmarket/moa-open-lite", max_tokens=16,
            messages=[{"role": "user", "content": "[sim:tokens=8] hi"}])

    data = Client().get(f"/api/v1/generation?id={answer.id}",
                        HTTP_AUTHORIZATION=f"Bearer {key}").json()["data"]
    rows = data["provider_responses"]
    assert [r["role"] for r in rows] == ["proposer"] * 3 + ["aggregator"]
    assert {r["model"] for r in rows} == {LLAMA, QWEN, MIXTRAL}
    assert all(r["tokens_completion"] > 0 and r["latency"] >= 0 and r["provider_name"]
               for r in rows)
    total = sum(Decimal(r["cost"]) for r in rows)
    assert float(total) == pytest.approx(answer.usage.model_extra["cost"])
    assert data["model"] == "openmarket/moa-open-lite" and data["total_cost"] == 0
