"""Generation content: kept (compressed, in its own table) only when the account had prompt
logging on at request time; GET /api/v1/generation/content in the reference's shape, for the
generation's own account; deleted after GENERATION_CONTENT_DAYS."""

import base64
import os
import zlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from openai import OpenAI
from openrouter import OpenRouter

from accounts.models import PrivacySettings
from accounts.publish import publish_account
from config import gateway_state
from config.redis import get_redis
from gateway.app import Gateway
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
from usage import content
from usage.metering import Consumer
from usage.models import Generation, GenerationContent
from usage.tasks import delete_expired_content

pytestmark = pytest.mark.django_db(transaction=True)
QUESTION = "[sim:tokens=12] What is in a log?"


@pytest.fixture
def gateway(redis_client: Any, sim: str) -> Iterator[str]:  # noqa: F811
    publish_catalog(redis_client, default_models(sim))
    with serve_asgi(Gateway(gateway_settings())) as url:
        yield url


def account_key(make_key: Any, email: str, *, logging: bool, **options: Any) -> str:  # noqa: F811
    key = make_key(email, credits="5", **options)
    user = User.objects.get(email=email)
    PrivacySettings.objects.update_or_create(user=user, defaults={"prompt_logging": logging})
    publish_account(user.pk)
    return key


def ask(gateway: str, key: str, **options: Any) -> str:
    client: Any = OpenAI(base_url=gateway + "/api/v1", api_key=key, max_retries=0)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    if options.get("stream"):
        chunks = list(client.chat.completions.create(model=OPENAI_MODEL, messages=messages,
                                                     max_tokens=32, **options))
        return str(chunks[0].id)
    answer = client.chat.completions.create(model=OPENAI_MODEL, messages=messages,
                                            max_tokens=32, **options)
    return str(answer.id)


def meter() -> None:
    Consumer(get_redis(), name="content-test").drain()


def get_content(key: str, generation_id: str) -> Any:
    return Client().get(f"/api/v1/generation/content?id={generation_id}",
                        HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.mark.parametrize("stream", [False, True])
def test_content_is_stored_compressed_and_served_only_with_prompt_logging_on(
    gateway: str, make_key: Any, stream: bool  # noqa: F811
) -> None:
    logged = account_key(make_key, "logged@example.com", logging=True)
    plain = account_key(make_key, "plain@example.com", logging=False)
    logged_id = ask(gateway, logged, stream=stream)
    plain_id = ask(gateway, plain, stream=stream)

    # Before the consumer stored it, the gateway's copy of the event answers already.
    early = get_content(logged, logged_id)
    assert early.status_code == 200, early.content
    meter()

    assert Generation.objects.filter(pk__in=[logged_id, plain_id]).count() == 2
    row = GenerationContent.objects.get()
    assert row.generation_id == logged_id
    stored = zlib.decompress(bytes(row.data))  # compressed JSON, as the gateway packed it
    assert QUESTION.encode() in stored

    data = get_content(logged, logged_id).json()["data"]
    assert data == early.json()["data"]
    assert data["input"]["messages"][-1] == {"role": "user", "content": QUESTION}
    assert data["output"]["completion"] and data["output"]["reasoning"] is None
    assert data["error"] is None
    # Nothing of the other account's content exists anywhere.
    assert get_content(plain, plain_id).status_code == 404
    assert not GenerationContent.objects.filter(generation_id=plain_id).exists()
    plain_user = User.objects.get(email="plain@example.com").pk
    event = get_redis().get(gateway_state.generation(plain_user, plain_id))
    assert isinstance(event, bytes) and QUESTION.encode() not in event


def test_the_openrouter_sdk_parses_it_and_another_account_gets_404(
    live_server: Any, gateway: str, make_key: Any  # noqa: F811
) -> None:
    key = account_key(make_key, "ada@example.com", logging=True)
    admin = make_key("ada@example.com", management=True)
    other = account_key(make_key, "bob@example.com", logging=True)
    generation_id = ask(gateway, key)
    meter()

    for which in (key, admin):  # either key of the account
        sdk = OpenRouter(api_key=which, server_url=live_server.url + "/api/v1")
        data: Any = sdk.generations.list_generation_content(id=generation_id).data
        assert data.input.messages[-1]["content"] == QUESTION
        assert data.output.completion and data.error is None

    assert get_content(other, generation_id).status_code == 404
    assert get_content(key, "gen-nope").status_code == 404
    missing = get_content(key, "")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 400


def test_tool_calls_and_long_inputs_are_kept_within_the_cap() -> None:
    from gateway.content import Transcript, pack

    transcript = Transcript()
    transcript.delta({"tool_calls": [{"index": 0, "id": "call_1", "function": {
        "name": "get_weather", "arguments": '{"city": '}}]})
    transcript.delta({"tool_calls": [{"index": 0, "function": {"arguments": '"Oslo"}'}}]})
    huge = base64.b64encode(os.urandom(600_000)).decode()  # does not compress
    packed = transcript.pack({"messages": [{"role": "user", "content": huge}]}, legacy=False)
    row = content.from_event({"content": packed}, "gen-1", 1, timezone.now())
    assert row is not None and len(row.data) <= 256 * 1024
    data = content.decode(row.data)
    assert data is not None
    assert data["output"]["tool_calls"] == [{"id": "call_1", "type": "function", "function": {
        "name": "get_weather", "arguments": '{"city": "Oslo"}'}}]
    assert data["input"]["messages"][0]["content"].endswith("…[truncated]")
    assert len(pack({"input": {"prompt": "short"}, "output": {}})) < 100


def test_retention_deletes_old_content_and_running_it_again_deletes_nothing(
    make_key: Any, settings: Any  # noqa: F811
) -> None:
    make_key("ada@example.com")
    user = User.objects.get(email="ada@example.com")
    settings.GENERATION_CONTENT_DAYS = 30
    now = timezone.now()
    blob = zlib.compress(b'{"input": {"prompt": "hi"}, "output": {}}')
    GenerationContent.objects.bulk_create([
        GenerationContent(generation_id=f"gen-{age}", user=user,
                          created_at=now - timedelta(days=age), data=blob)
        for age in (1, 29, 31, 400)
    ])
    assert delete_expired_content() == 2
    assert delete_expired_content() == 0
    assert sorted(GenerationContent.objects.values_list("pk", flat=True)) == ["gen-1", "gen-29"]
    user.delete()  # the account's content goes with it
    assert not GenerationContent.objects.exists()
