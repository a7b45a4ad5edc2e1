"""Through the gateway: an account with prompt logging on has its prompts classified by the beat
job (only the category kept), an account without it is never classified; the shares reach
GET /api/v1/classifications/task and the rankings-daily category filter."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from openai import OpenAI
from openrouter import OpenRouter

from accounts.models import PrivacySettings
from accounts.publish import publish_account
from config.redis import get_redis
from gateway.app import Gateway
from rankings.models import CategoryDaily, PromptCategory
from rankings.refresh import refresh_rankings
from rankings.tasks import classify_prompts
from tests.accounts.conftest import make_key  # noqa: F401  (fixture)
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    OPENAI_MODEL,
    default_models,
    gateway_settings,
    publish_catalog,
    sim,
    simulator,
)
from tests.servers import serve_asgi
from usage.metering import Consumer
from usage.models import Generation

pytestmark = pytest.mark.django_db(transaction=True)

ASKED = {
    "code": "[sim:tokens=8] Write a Python function that parses a CSV file with pandas",
    "poem": "[sim:tokens=8] Write a haiku about autumn leaves",
    "translate": "[sim:tokens=8] Translate 'good morning' into Japanese",
}


@pytest.fixture
def gateway(redis_client: Any, sim: str) -> Iterator[str]:  # noqa: F811
    publish_catalog(redis_client, default_models(sim))
    with serve_asgi(Gateway(gateway_settings())) as url:
        yield url


def account_key(make_key: Any, email: str, *, logging: bool) -> str:  # noqa: F811
    key = make_key(email, credits="5")
    user = User.objects.get(email=email)
    PrivacySettings.objects.update_or_create(user=user, defaults={"prompt_logging": logging})
    publish_account(user.pk)
    return key


def ask(gateway: str, key: str, text: str) -> str:
    client: Any = OpenAI(base_url=gateway + "/api/v1", api_key=key, max_retries=0)
    answer = client.chat.completions.create(
        model=OPENAI_MODEL, max_tokens=16,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}])
    return str(answer.id)


def test_logged_prompts_are_classified_and_shared(gateway: str, make_key: Any,  # noqa: F811
                                                  live_server) -> None:
    logged = account_key(make_key, "logged@example.com", logging=True)
    plain = account_key(make_key, "plain@example.com", logging=False)
    ids = {name: ask(gateway, logged, text) for name, text in ASKED.items()}
    unlogged = ask(gateway, plain, ASKED["code"])
    Consumer(get_redis(), name="categories-test").drain()
    assert Generation.objects.count() == 4

    classify_prompts.delay()  # the beat task (eager in tests)
    assert dict(PromptCategory.objects.values_list("generation_id", "category")) == {
        ids["code"]: "programming", ids["poem"]: "creative_writing",
        ids["translate"]: "translation"}
    assert not PromptCategory.objects.filter(generation_id=unlogged).exists()
    assert CategoryDaily.objects.filter(model=OPENAI_MODEL).count() == 3
    classify_prompts.delay()  # idempotent
    assert PromptCategory.objects.count() == 3

    client = OpenRouter(api_key=logged, server_url=live_server.url + "/api/v1")
    shares = client.classifications.get_task_classifications().data
    assert {c.tag: c.usage_share for c in shares.classifications} == {
        "code:programming": pytest.approx(1 / 3), "general:creative_writing": pytest.approx(1 / 3),
        "general:translation": pytest.approx(1 / 3)}
    assert all(c.models[0].id == OPENAI_MODEL for c in shares.classifications)

    refresh_rankings()
    today = datetime.now(UTC).date().isoformat()  # the default window ends yesterday
    daily = client.datasets.get_rankings_daily(language_type="programming", start_date=today,
                                               end_date=today).data
    programming = Generation.objects.get(pk=ids["code"])
    assert [(r.model_permaslug, r.total_tokens) for r in daily] == [
        (OPENAI_MODEL, str(programming.tokens_prompt + programming.tokens_completion))]
