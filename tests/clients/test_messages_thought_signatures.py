"""Gemini thought signatures through POST /api/v1/messages: the signature comes back as the
signature of the turn's thinking block and, sent back with the turn, reaches Gemini unchanged
(the simulator logs the signatures it received and refuses forged ones)."""

from typing import Any

import anthropic
import pytest

from simulator.testing import recent_requests
from tests.clients.conftest import GEMINI, World

READ_FILE = {"name": "read_file", "description": "Read a file of the repository",
             "input_schema": {"type": "object", "properties": {"path": {"type": "string"}},
                              "required": ["path"]}}
THINKING = {"type": "enabled", "budget_tokens": 2000}


def sdk(world: World) -> Any:
    return anthropic.Anthropic(base_url=world.url + "/api", api_key=world.key, max_retries=0)


def ask(world: World, messages: list[Any], stream: bool) -> Any:
    options: dict[str, Any] = {"model": GEMINI, "max_tokens": 4000, "thinking": THINKING,
                               "tools": [READ_FILE], "messages": messages}
    if not stream:
        return sdk(world).messages.create(**options)
    with sdk(world).messages.stream(**options) as events:
        return events.get_final_message()


def received(world: World) -> list[str]:
    return recent_requests(world.sim, "google-ai-studio")[-1]["signatures"]


@pytest.mark.parametrize("stream", [False, True])
def test_thought_signature_round_trip(world: World, stream: bool):
    messages: list[Any] = [{"role": "user", "content": "Look at main.py, read_file"}]
    first = ask(world, messages, stream)
    assert first.content[0].type == "thinking"
    signature = first.content[0].signature
    assert signature and signature != "[REDACTED]"
    assert [b.signature for b in first.content if b.type == "thinking"] == [signature]
    call = next(b for b in first.content if b.type == "tool_use")
    turn = {"role": "assistant", "content": [b.model_dump() for b in first.content]}
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                           "content": "print('hi')"}]}
    second = ask(world, [*messages, turn, result], stream)
    assert second.stop_reason == "end_turn"
    assert received(world) == [signature]

    forged = {"role": "assistant", "content": [
        {**block, "signature": "Zm9yZ2Vk"} if block["type"] == "thinking" else block
        for block in turn["content"]]}
    with pytest.raises(anthropic.BadRequestError):
        ask(world, [*messages, forged, result], stream=False)
    assert recent_requests(world.sim, "google-ai-studio")[-1]["status"] == 400
