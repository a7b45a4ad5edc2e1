"""Tools round trip through every wire format: call, result, final answer."""

import json

import pytest

from tests.gateway.conftest import ONE_PER_FORMAT, World

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_tool_call_then_tool_result_then_answer(world: World, model: str):
    client = world.client()
    messages: list = [{"role": "user", "content": "What is the weather in Paris? get_weather"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER],
                                           tool_choice="required", max_tokens=200)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)

    messages += [
        {"role": "assistant", "content": choice.message.content,
         "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21}'},
    ]
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER],
                                            max_tokens=200)
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_streamed_tool_call_arguments_reassemble(world: World, model: str):
    stream = world.client().chat.completions.create(
        model=model, stream=True, tools=[WEATHER], max_tokens=200,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
    )
    name, arguments, finish = "", "", None
    for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                name += call.function.name or "" if call.function else ""
                arguments += call.function.arguments or "" if call.function else ""
            finish = choice.finish_reason or finish
    assert name == "get_weather"
    assert "city" in json.loads(arguments)
    assert finish == "tool_calls"
