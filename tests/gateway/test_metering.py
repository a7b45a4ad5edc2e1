"""One usage event per generation, settled atomically with the balance and the key usage."""

from decimal import Decimal

import orjson
import pytest

from gateway import keys as gw_keys
from gateway.metering import period_fields
from tests.gateway.conftest import ANTHROPIC_MODEL, LLAMA, ONE_PER_FORMAT, World, key_hash

PRICES = {ONE_PER_FORMAT[0]: ("0.00000015", "0.0000006"),
          ONE_PER_FORMAT[1]: ("0.0000008", "0.000004"),
          ONE_PER_FORMAT[2]: ("0.0000001", "0.0000004")}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_cost_event_balance_and_generation_record_agree(world: World, model: str, stream: bool):
    client = world.client()
    kwargs = dict(model=model, max_tokens=100,
                  messages=[{"role": "user", "content": "Count the rivers."}])
    if stream:
        chunks = list(client.chat.completions.create(stream=True, **kwargs))
        generation_id, usage = chunks[0].id, chunks[-1].usage
    else:
        completion = client.chat.completions.create(**kwargs)
        generation_id, usage = completion.id, completion.usage
    assert usage is not None
    prompt_price, completion_price = (Decimal(p) for p in PRICES[model])
    expected = usage.prompt_tokens * prompt_price + usage.completion_tokens * completion_price
    nanos = int(expected / Decimal("1e-9"))
    assert (usage.model_extra or {})["cost"] == pytest.approx(float(expected))

    (event,) = world.events()
    assert event["id"] == generation_id
    assert event["cost_nanos"] == nanos and Decimal(event["cost"]) == expected
    assert event["streamed"] is stream and event["cancelled"] is False
    assert event["tokens_prompt"] == usage.prompt_tokens
    assert event["tokens_completion"] == usage.completion_tokens
    assert event["model"] == model and event["status"] == 200 and event["user_id"] == 1
    assert event["key_hash"] == key_hash(world.key)
    assert orjson.loads(world.redis.get(gw_keys.generation(1, generation_id))) == event
    assert 0 < world.redis.ttl(gw_keys.generation(1, generation_id)) <= 86400

    balance = world.account()
    assert balance["spent"] == nanos and balance["reserved"] == 0
    usage_fields = {k.decode(): int(v) for k, v in
                    world.redis.hgetall(gw_keys.key_usage(1, key_hash(world.key))).items()}
    day, week, month = period_fields()
    assert usage_fields["total"] == usage_fields[day] == usage_fields[week] == nanos
    assert usage_fields[month] == nanos and usage_fields["reserved"] == 0
    # The keys page's "last used" comes from the same atomic step.
    assert abs(usage_fields["last_used"] - event["created_at"]) < 2


def test_each_request_is_one_event(world: World):
    client = world.client()
    ids = [client.chat.completions.create(model=LLAMA, max_tokens=20,
                                          messages=[{"role": "user", "content": f"hi {i}"}]).id
           for i in range(5)]
    events = world.events()
    assert [e["id"] for e in events] == ids
    assert world.account()["spent"] == sum(e["cost_nanos"] for e in events)


def test_attribution_headers_are_recorded(world: World):
    client = world.client(default_headers={
        "HTTP-Referer": "https://myapp.example", "X-Title": "My App",
        "X-OpenRouter-Categories": "general-chat, Roleplay,not-a-category,cli-agent"})
    client.chat.completions.create(model=ANTHROPIC_MODEL, max_tokens=20, user="end-user-7",
                                   messages=[{"role": "user", "content": "hi"}])
    (event,) = world.events()
    assert event["http_referer"] == "https://myapp.example"
    assert event["app_title"] == "My App"
    assert event["app_categories"] == ["general-chat", "roleplay"]
    assert event["external_user"] == "end-user-7"
    assert event["ttft_ms"] >= 0 and event["latency_ms"] >= event["ttft_ms"]
