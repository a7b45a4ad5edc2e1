"""Reasoning through chat completions: mapped per provider format, returned as
`reasoning`/`reasoning_details`, counted as reasoning tokens and billed as completion."""

import json
from decimal import Decimal

import openai
import pytest

from tests.clients.conftest import CLAUDE, GEMINI, O4, R1, REASONING_MODELS, World

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}


@pytest.mark.parametrize("model", REASONING_MODELS)
def test_reasoning_tokens_are_counted_and_billed_as_completion(world: World, model: str):
    answer = world.client().chat.completions.create(
        model=model, max_tokens=400, extra_body={"reasoning": {"effort": "high"}},
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
    )
    usage = answer.usage
    assert usage is not None and usage.completion_tokens_details is not None
    reasoning_tokens = usage.completion_tokens_details.reasoning_tokens
    assert reasoning_tokens and 0 < reasoning_tokens < usage.completion_tokens
    message = answer.choices[0].message.model_dump()
    if model == O4:
        assert message["reasoning"] is None  # OpenAI never returns its reasoning text
    else:
        assert message["reasoning"]
        details = message["reasoning_details"]
        assert "".join(d.get("text") or "" for d in details) == message["reasoning"]
    (event,) = world.events()
    assert event["tokens_reasoning"] == reasoning_tokens
    assert event["tokens_completion"] == usage.completion_tokens
    assert Decimal(event["cost"]) == Decimal(str(usage.model_dump()["cost"]))


def test_no_reasoning_unless_asked(world: World):
    answer = world.client().chat.completions.create(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "Hi"}])
    assert answer.usage and answer.usage.completion_tokens_details
    assert answer.usage.completion_tokens_details.reasoning_tokens == 0
    assert answer.choices[0].message.model_dump().get("reasoning") is None


def test_anthropic_budget_above_max_tokens_raises_the_upstream_max_tokens(world: World):
    # Claude refuses max_tokens <= budget_tokens; the gateway asks for budget + max_tokens.
    answer = world.client().chat.completions.create(
        model=CLAUDE, max_tokens=50, extra_body={"reasoning": {"max_tokens": 2000}},
        messages=[{"role": "user", "content": "Think first."}],
    )
    assert answer.choices[0].message.model_dump()["reasoning"]


@pytest.mark.parametrize("model", [CLAUDE, GEMINI, R1])
def test_streamed_reasoning_matches_the_non_streamed_one(world: World, model: str):
    body = {"model": model, "max_tokens": 400, "extra_body": {"reasoning": {"effort": "low"}},
            "messages": [{"role": "user", "content": "Count to three."}]}
    whole = world.client().chat.completions.create(**body).choices[0].message.model_dump()
    reasoning, content = "", ""
    details: list[dict] = []
    for chunk in world.client().chat.completions.create(stream=True, **body):
        for choice in chunk.choices:
            delta = choice.delta.model_dump()
            reasoning += delta.get("reasoning") or ""
            details += delta.get("reasoning_details") or []
            content += delta.get("content") or ""
    assert reasoning == whole["reasoning"] and content == whole["content"]
    assert "".join(d.get("text") or "" for d in details) == reasoning
    if model == CLAUDE:
        assert [d["signature"] for d in details if d.get("signature")] == \
            [whole["reasoning_details"][0]["signature"]]


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
def test_reasoning_details_sent_back_with_tool_calls_reach_the_provider_intact(
        world: World, model: str):
    client = world.client()
    messages: list = [{"role": "user", "content": "Weather in Oslo? get_weather"}]
    first = client.chat.completions.create(
        model=model, messages=messages, tools=[WEATHER], max_tokens=400,
        extra_body={"reasoning": {"max_tokens": 1500}},
    ).choices[0].message.model_dump()
    details = first["reasoning_details"]
    if model == GEMINI:
        assert details[0]["type"] == "reasoning.encrypted" and details[0]["data"]
    else:
        assert details[0]["signature"]
    (call,) = first["tool_calls"]
    turn = {"role": "assistant", "content": first["content"], "tool_calls": [call],
            "reasoning_details": details}
    follow = [*messages, turn, {"role": "tool", "tool_call_id": call["id"], "content": "7C"}]
    second = client.chat.completions.create(
        model=model, messages=follow, tools=[WEATHER], max_tokens=400,
        extra_body={"reasoning": {"max_tokens": 1500}})
    assert second.choices[0].finish_reason == "stop"

    # The provider checks the signatures: an edited one is refused.
    forged = json.loads(json.dumps(details))
    if model == GEMINI:
        forged[0]["data"] = "Zm9yZ2Vk"
    else:
        forged[0]["text"] += " (edited)"
    turn["reasoning_details"] = forged
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=follow, tools=[WEATHER],
                                       max_tokens=400,
                                       extra_body={"reasoning": {"max_tokens": 1500}})
    assert "signature" in json.dumps(refused.value.body).lower()


def test_bad_reasoning_is_a_400(world: World):
    with pytest.raises(openai.BadRequestError, match=r"reasoning\.effort"):
        world.client().chat.completions.create(
            model=CLAUDE, messages=[{"role": "user", "content": "x"}],
            extra_body={"reasoning": {"effort": "enormous"}})


@pytest.mark.parametrize("model", [CLAUDE, GEMINI, R1])
@pytest.mark.parametrize("stream", [False, True])
def test_excluded_reasoning_is_billed_but_not_returned(world: World, model: str, stream: bool):
    body = {"model": model, "max_tokens": 400,
            "extra_body": {"reasoning": {"effort": "medium", "exclude": True}},
            "messages": [{"role": "user", "content": "Think quietly."}]}
    if stream:
        chunks = list(world.client().chat.completions.create(
            stream=True, stream_options={"include_usage": True}, **body))
        deltas = [c.choices[0].delta.model_dump() for c in chunks if c.choices]
        assert not any(d.get("reasoning") or d.get("reasoning_details") for d in deltas)
        usage = chunks[-1].usage
    else:
        answer = world.client().chat.completions.create(**body)
        message = answer.choices[0].message.model_dump()
        assert message["reasoning"] is None and not message.get("reasoning_details")
        usage = answer.usage
    assert usage and usage.completion_tokens_details
    assert usage.completion_tokens_details.reasoning_tokens > 0
