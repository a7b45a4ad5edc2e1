"""LiteLLM against the gateway: `openrouter/<model>` with a custom api_base, as a LiteLLM user
points it at OpenRouter, streamed and not, with reasoning and with tools."""

import json
import os
from typing import Any

# LiteLLM fetches its price map from the internet at import unless told to use its bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm

from tests.clients.conftest import CLAUDE, R1, World

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


def call(world: World, model: str, **kwargs: Any) -> Any:
    return litellm.completion(model="openrouter/" + model, api_base=world.url + "/api/v1",
                              api_key=world.key, max_tokens=300, num_retries=0, **kwargs)


def test_litellm_completion_with_reasoning(world: World):
    reply = call(world, CLAUDE, messages=[{"role": "user", "content": "Hello"}],
                 reasoning_effort="low")
    message = reply.choices[0].message
    assert message.content
    assert message.reasoning_content  # LiteLLM's name for OpenRouter's `reasoning`
    assert reply.usage.completion_tokens_details.reasoning_tokens > 0
    assert reply.model.endswith(CLAUDE)
    event = world.events()[-1]
    assert event["model"] == CLAUDE and event["tokens_completion"] == \
        reply.usage.completion_tokens


def test_litellm_stream(world: World):
    chunks = list(call(world, R1, messages=[{"role": "user", "content": "Hello"}],
                       stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    usage = [c.usage for c in chunks if getattr(c, "usage", None)]
    assert usage and usage[-1].completion_tokens > 0


def test_litellm_tools(world: World):
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What is the weather in Oslo? use get_weather"}]
    reply = call(world, CLAUDE, messages=messages, tools=[WEATHER])
    message = reply.choices[0].message
    assert reply.choices[0].finish_reason == "tool_calls"
    calls = message.tool_calls
    assert calls and calls[0].function.name == "get_weather"
    assert "city" in json.loads(calls[0].function.arguments)
    messages += [message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": calls[0].id, "content": "7C"}]
    final = call(world, CLAUDE, messages=messages, tools=[WEATHER])
    assert final.choices[0].message.content
