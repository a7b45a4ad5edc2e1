"""POST /api/v1/messages with the official `anthropic` SDK: any catalog model, streamed and
not, tools, thinking, and a coding agent's request sequence."""

import json
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import pytest

from tests.clients.conftest import CLAUDE, GEMINI, R1, World
from tests.gateway.conftest import ONE_PER_FORMAT

READ_FILE = {"name": "read_file", "description": "Read a file of the repository",
             "input_schema": {"type": "object", "properties": {"path": {"type": "string"}},
                              "required": ["path"]}}
RUN_TESTS = {"name": "run_tests", "description": "Run the test suite",
             "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}}}}


def sdk(world: World, **kwargs: Any) -> Any:
    # The SDK appends /v1/messages to its base URL, as Claude Code does with OpenRouter's.
    return anthropic.Anthropic(base_url=world.url + "/api", api_key=world.key, max_retries=0,
                               **kwargs)


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_any_catalog_model_answers_in_the_messages_shape(world: World, model: str):
    message = sdk(world).messages.create(
        model=model, max_tokens=200, system="Be brief.",
        messages=[{"role": "user", "content": "Hello there"}])
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_") and message.model == model
    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text" and message.content[0].text
    (event,) = world.events()
    assert event["tokens_prompt"] == message.usage.input_tokens
    assert event["tokens_completion"] == message.usage.output_tokens
    assert Decimal(event["cost"]) == Decimal(str(message.model_dump()["usage"]["cost"]))
    assert event["id"].endswith(message.id.removeprefix("msg_"))
    assert event["api_type"] == "messages"


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
def test_streamed_message_equals_the_whole_one(world: World, model: str):
    body: dict[str, Any] = {"model": model, "max_tokens": 200,
                            "messages": [{"role": "user", "content": "Tell me a story"}]}
    whole = sdk(world).messages.create(**body)
    with sdk(world).messages.stream(**body) as stream:
        names = [event.type for event in stream]
        final = stream.get_final_message()
    assert final.content[0].text == whole.content[0].text
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert "content_block_start" in names and "message_delta" in names
    assert final.usage.output_tokens == whole.usage.output_tokens
    assert final.stop_reason == "end_turn"


def test_bearer_auth_and_a_bad_key_in_anthropic_error_shape(world: World):
    response = httpx.post(world.url + "/api/v1/messages", headers={
        "authorization": f"Bearer {world.key}", "anthropic-version": "2023-06-01"},
        json={"model": CLAUDE, "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]})
    assert response.status_code == 200 and response.json()["type"] == "message"
    assert response.headers["x-generation-id"].startswith("gen-")
    with pytest.raises(anthropic.AuthenticationError) as err:
        anthropic.Anthropic(base_url=world.url + "/api", api_key="sk-or-v1-bad",
                            max_retries=0).messages.create(
            model=CLAUDE, max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    assert err.value.body["type"] == "error"  # type: ignore[index]
    assert err.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError):
        sdk(world).messages.create(model=CLAUDE, max_tokens=10, messages=[])


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
def test_thinking_comes_back_as_thinking_blocks_and_goes_back_intact(world: World, model: str):
    client = sdk(world)
    thinking = {"type": "enabled", "budget_tokens": 2000}
    messages: list[Any] = [{"role": "user", "content": "Look at main.py, read_file"}]
    first = client.messages.create(model=model, max_tokens=4000, thinking=thinking,
                                   tools=[READ_FILE], messages=messages)
    kinds = [b.type for b in first.content]
    assert kinds[0] == "thinking" and "tool_use" in kinds and first.stop_reason == "tool_use"
    assert first.model_dump()["usage"]["output_tokens_details"]["thinking_tokens"] > 0
    if model == CLAUDE:
        assert first.content[0].signature
    call = next(b for b in first.content if b.type == "tool_use")
    messages += [{"role": "assistant", "content": [b.model_dump() for b in first.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                               "content": "print('hi')"}]}]
    second = client.messages.create(model=model, max_tokens=4000, thinking=thinking,
                                    tools=[READ_FILE], messages=messages)
    assert second.stop_reason == "end_turn"


def test_streamed_thinking_and_tool_use(world: World):
    with sdk(world).messages.stream(
            model=CLAUDE, max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 1024},
            tools=[READ_FILE], messages=[{"role": "user", "content": "Open a.py, read_file"}],
    ) as stream:
        final = stream.get_final_message()
    kinds = [b.type for b in final.content]
    assert kinds[0] == "thinking" and final.content[0].signature
    tool = next(b for b in final.content if b.type == "tool_use")
    assert tool.name == "read_file" and "path" in tool.input


@pytest.mark.parametrize("model", [CLAUDE, R1])
def test_parallel_tool_use_in_one_turn_and_disable_parallel(world: World, model: str):
    ask = [{"role": "user", "content": "Read both setup.py and app.py with read_file"}]
    message = sdk(world).messages.create(model=model, max_tokens=400, tools=[READ_FILE],
                                         messages=ask)
    assert [b.type for b in message.content].count("tool_use") == 2
    with sdk(world).messages.stream(model=model, max_tokens=400, tools=[READ_FILE],
                                    messages=ask) as stream:
        streamed = stream.get_final_message()
    assert [b.input for b in streamed.content if b.type == "tool_use"] == \
        [b.input for b in message.content if b.type == "tool_use"]
    single = sdk(world).messages.create(
        model=model, max_tokens=400, tools=[READ_FILE], messages=ask,
        tool_choice={"type": "auto", "disable_parallel_tool_use": True})
    assert [b.type for b in single.content].count("tool_use") == 1


def test_a_coding_agent_session(world: World):
    """The sequence a coding agent sends: system with cache_control, tools, tool_use and
    tool_result turns, streamed, until the model answers in words."""
    client = sdk(world)
    system = [{"type": "text", "text": "You are a coding agent.",
               "cache_control": {"type": "ephemeral"}}]
    messages: list[Any] = [{"role": "user", "content": [
        {"type": "text", "text": "Fix the failing test: read_file then run_tests"}]}]
    for _ in range(3):
        with client.messages.stream(model=CLAUDE, max_tokens=1000, system=system,
                                    tools=[READ_FILE, RUN_TESTS], messages=messages,
                                    extra_headers={"anthropic-beta": "tools-2024-04-04"}
                                    ) as stream:
            reply = stream.get_final_message()
        messages.append({"role": "assistant", "content": [b.model_dump() for b in reply.content]})
        calls = [b for b in reply.content if b.type == "tool_use"]
        if not calls:
            break
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": c.id, "content": json.dumps({"ok": True})}
            for c in calls]})
    assert reply.stop_reason == "end_turn" and reply.content[-1].type == "text"
    assert len(world.events()) == len([m for m in messages if m["role"] == "assistant"])
