"""POST /api/v1/responses with the official `openai` SDK: string and item input, tools and
their outputs, reasoning, structured output, the streamed event sequence, billing."""

import json
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from tests.clients.conftest import CLAUDE, GEMINI, O4, R1, World
from tests.gateway.conftest import ONE_PER_FORMAT

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}}


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_string_input_with_instructions(world: World, model: str):
    response = world.client().responses.create(model=model, input="Say hello",
                                               instructions="Be brief.", max_output_tokens=200)
    assert response.object == "response" and response.status == "completed"
    assert response.id.startswith("resp_") and response.model == model
    assert response.output_text and response.output[-1].type == "message"
    assert response.instructions == "Be brief."
    usage = response.usage
    assert usage is not None and usage.total_tokens == usage.input_tokens + usage.output_tokens
    (event,) = world.events()
    assert event["tokens_prompt"] == usage.input_tokens and event["api_type"] == "responses"
    assert Decimal(event["cost"]) == Decimal(str(usage.model_dump()["cost"]))


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_streamed_events_follow_the_reference_sequence(world: World, model: str):
    body: dict[str, Any] = {"model": model, "input": "Tell me a story", "max_output_tokens": 200}
    whole = world.client().responses.create(**body)
    with world.client().responses.stream(**body) as stream:
        events = list(stream)
        final = stream.get_final_response()
    names = [e.type for e in events]
    assert names[:4] == ["response.created", "response.in_progress",
                         "response.output_item.added", "response.content_part.added"]
    assert names[-4:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", "response.completed"]
    assert set(names[4:-4]) == {"response.output_text.delta"}
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.output_text == whole.output_text
    assert final.id == events[0].response.id
    assert final.usage and final.usage.output_tokens == whole.usage.output_tokens


@pytest.mark.parametrize("model", [CLAUDE, GEMINI, R1])
def test_function_call_then_output_then_answer_with_reasoning(world: World, model: str):
    client = world.client()
    items: list[Any] = [{"role": "user", "content": "Weather in Oslo? get_weather"}]
    first = client.responses.create(model=model, input=items, tools=[WEATHER],
                                    reasoning={"effort": "high"}, max_output_tokens=3000)
    kinds = [item.type for item in first.output]
    assert kinds[0] == "reasoning" and kinds[-1] == "function_call"
    assert first.usage and first.usage.output_tokens_details.reasoning_tokens > 0
    call = first.output[-1]
    assert call.name == "get_weather" and "city" in json.loads(call.arguments)
    # Echo every output item (reasoning included: signatures must reach the provider).
    items += [item.model_dump(exclude_none=True) for item in first.output]
    items.append({"type": "function_call_output", "call_id": call.call_id,
                  "output": '{"temp_c": 7}'})
    second = client.responses.create(model=model, input=items, tools=[WEATHER],
                                     reasoning={"effort": "high"}, max_output_tokens=3000)
    assert second.status == "completed" and second.output_text


def test_streamed_parallel_function_calls(world: World):
    with world.client().responses.stream(
            model=R1, tools=[WEATHER], max_output_tokens=500,
            input="What is the weather in Paris and in London? Use get_weather for each.",
    ) as stream:
        final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert len(calls) == 2 and len({c.call_id for c in calls}) == 2
    single = world.client().responses.create(
        model=R1, tools=[WEATHER], max_output_tokens=500, parallel_tool_calls=False,
        input="What is the weather in Paris and in London? Use get_weather for each.")
    assert [item.type for item in single.output].count("function_call") == 1


def test_hidden_reasoning_is_counted(world: World):
    response = world.client().responses.create(model=O4, input="Think", max_output_tokens=500,
                                               reasoning={"effort": "low"})
    assert response.usage and response.usage.output_tokens_details.reasoning_tokens > 0


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_structured_output_follows_the_schema(world: World, model: str):
    schema = {"type": "object", "properties": {"city": {"type": "string"},
                                               "population": {"type": "integer"}},
              "required": ["city", "population"], "additionalProperties": False}
    response = world.client().responses.create(
        model=model, input="Biggest city?", max_output_tokens=300,
        text={"format": {"type": "json_schema", "name": "city", "schema": schema,
                         "strict": True}})
    value = json.loads(response.output_text)
    assert isinstance(value["city"], str) and isinstance(value["population"], int)


def test_stateful_requests_and_bad_input_are_400(world: World):
    client = world.client()
    for extra in ({"store": True}, {"previous_response_id": "resp_1"}):
        with pytest.raises(openai.BadRequestError):
            client.responses.create(model=CLAUDE, input="x", **extra)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=CLAUDE, input=[])
    response = httpx.post(world.url + "/api/v1/responses", content=b"{",
                          headers={"authorization": f"Bearer {world.key}"})
    assert response.status_code == 400 and response.json()["error"]["code"] == 400


def test_item_input_with_images_and_history(world: World):
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
             "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    response = world.client().responses.create(model=CLAUDE, max_output_tokens=100, input=[
        {"role": "developer", "content": "Describe images."},
        {"role": "user", "content": [{"type": "input_text", "text": "What is this?"},
                                     {"type": "input_image", "image_url": pixel}]},
        {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
         "content": [{"type": "output_text", "text": "A pixel.", "annotations": []}]},
        {"role": "user", "content": "Are you sure?"}])
    assert response.status == "completed" and response.output_text
