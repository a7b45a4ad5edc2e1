"""A mixture's sub-calls are metered as their own generations linked to the parent: each is
charged once, their costs sum to the answer's cost, the parent's row (virtual, no charge) lists
the breakdown from the stored sub-generations, and rankings count only the real models."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import PrivacySettings
from accounts.publish import publish_account
from billing.ledger import balance
from config.redis import get_redis
from gateway.app import Gateway
from rankings.models import HourlyUsage, ModelRanking
from rankings.refresh import refresh_rankings
from tests.accounts.conftest import make_key  # noqa: F401  (fixture)
from tests.gateway.conftest import gateway_settings, publish_catalog
from tests.moa.conftest import LLAMA, MIXTRAL, QWEN, mixture_models
from tests.presets.conftest import openai_client
from tests.servers import serve_asgi
from usage.metering import Consumer
from usage.models import Generation, GenerationContent

pytestmark = pytest.mark.django_db(transaction=True)
MIXTURE = "openmarket/moa-open-lite"


def test_sub_generations_are_stored_linked_charged_once_and_ranked_as_their_models(
    make_key, redis_client, sim  # noqa: F811
):
    key = make_key("ada@example.com", credits="5")
    user = User.objects.get(email="ada@example.com")
    publish_catalog(redis_client, mixture_models(sim))
    with serve_asgi(Gateway(gateway_settings())) as url:
        answer = openai_client(url, key).chat.completions.create(
            model=MIXTURE, max_tokens=16,
            messages=[{"role": "user", "content": "[sim:tokens=8] hi"}])
    consumer = Consumer(get_redis(), name="moa-test")
    consumer.drain()
    consumer.drain()  # nothing is stored or charged twice

    parent = Generation.objects.get(pk=answer.id)
    assert parent.virtual and parent.cost == 0 and parent.parent_id is None
    subs = list(Generation.objects.filter(parent_id=answer.id))
    assert len(subs) == 4 and {g.model for g in subs} == {LLAMA, QWEN, MIXTRAL}
    assert all(g.cost > 0 and not g.virtual for g in subs)
    total = sum((g.cost for g in subs), Decimal(0))
    assert float(total) == pytest.approx(answer.usage.model_extra["cost"])
    assert balance(user.pk).usage == total  # each sub-generation charged exactly once

    data = Client().get(f"/api/v1/generation?id={answer.id}",
                        HTTP_AUTHORIZATION=f"Bearer {key}").json()["data"]
    rows = data["provider_responses"]
    assert [r["role"] for r in rows] == ["proposer"] * 3 + ["aggregator"]
    by_id = {g.id: g for g in subs}
    for row in rows:
        stored = by_id[row["id"]]
        assert (row["model"], row["provider_name"], row["tokens_prompt"],
                row["tokens_completion"], Decimal(row["cost"]), row["latency"]) == (
            stored.model, stored.provider_name, stored.tokens_prompt,
            stored.tokens_completion, stored.cost, stored.latency_ms)

    refresh_rankings()
    assert not HourlyUsage.objects.filter(model=MIXTURE).exists()
    ranked = set(ModelRanking.objects.filter(period="day").values_list("model", flat=True))
    assert ranked == {LLAMA, QWEN, MIXTRAL}


def test_with_prompt_logging_the_parent_keeps_the_question_and_the_final_answer(
    make_key, redis_client, sim  # noqa: F811
):
    key = make_key("ada@example.com", credits="5")
    user = User.objects.get(email="ada@example.com")
    PrivacySettings.objects.update_or_create(user=user, defaults={"prompt_logging": True})
    publish_account(user.pk)
    publish_catalog(redis_client, mixture_models(sim))
    question = [{"role": "user", "content": "[sim:tokens=8] hi"}]
    with serve_asgi(Gateway(gateway_settings())) as url:
        chunks = list(openai_client(url, key).chat.completions.create(
            model=MIXTURE, max_tokens=16, stream=True, messages=question))
    answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    Consumer(get_redis(), name="moa-test").drain()

    data = Client().get(f"/api/v1/generation/content?id={chunks[0].id}",
                        HTTP_AUTHORIZATION=f"Bearer {key}").json()["data"]
    assert data["input"] == {"messages": question}
    assert answer and data["output"]["completion"] == answer
    # Each sub-call keeps its own input (the aggregator's holds the proposers' answers).
    subs = Generation.objects.filter(parent_id=chunks[0].id)
    assert GenerationContent.objects.filter(generation_id__in=subs.values("id")).count() == 4
