"""POST /api/v1/chat/completions with the official openai SDK, one model per wire format."""

import pytest

from tests.gateway.conftest import ONE_PER_FORMAT, World


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_a_model_behind_each_wire_format_answers_in_openai_shape(world: World, model: str):
    client = world.client()
    completion = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": "Blue."},
            {"role": "user", "content": "Another one."},
        ],
        max_tokens=200,
        temperature=0.5,
    )
    assert completion.id.startswith("gen-")
    assert completion.object == "chat.completion"
    assert completion.model == model
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    extra = completion.model_extra or {}
    assert extra["provider"]
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert (usage.model_extra or {})["cost"] > 0


def test_raw_response_carries_the_generation_id_header(world: World):
    raw = world.client().chat.completions.with_raw_response.create(
        model=ONE_PER_FORMAT[0], messages=[{"role": "user", "content": "hi"}], max_tokens=5
    )
    completion = raw.parse()
    assert raw.headers["x-generation-id"] == completion.id
    assert completion.id.split("-")[1].isdigit() and len(completion.id.split("-")[2]) == 20


def test_max_tokens_cuts_the_answer_with_finish_reason_length(world: World):
    completion = world.client().chat.completions.create(
        model=ONE_PER_FORMAT[1], messages=[{"role": "user", "content": "[sim:tokens=50] go"}],
        max_tokens=3,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "length"
    assert (choice.model_extra or {})["native_finish_reason"] == "max_tokens"
    assert completion.usage is not None and completion.usage.completion_tokens == 3


def test_unknown_fields_are_tolerated(world: World):
    completion = world.client().chat.completions.create(
        model=ONE_PER_FORMAT[0], messages=[{"role": "user", "content": "hi"}], max_tokens=5,
        extra_body={"transforms": ["middle-out"], "some_vendor_flag": {"x": 1}, "top_k": 3},
    )
    assert completion.choices[0].message.content
