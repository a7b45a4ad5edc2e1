"""Reasoning on POST /api/v1/responses: the reasoning item carries the model's reasoning as
`reasoning_text` content, and a stream sends it as `response.reasoning_text.delta`/`.done`
before the summary part, in the reference's order, read with the openai SDK."""

from typing import Any

import pytest

from tests.clients.conftest import CLAUDE, GEMINI, R1, World

REASONING_ORDER = ["response.output_item.added", "response.reasoning_text.done",
                   "response.reasoning_summary_part.added",
                   "response.reasoning_summary_text.done",
                   "response.reasoning_summary_part.done", "response.output_item.done"]


def body(model: str) -> dict[str, Any]:
    return {"model": model, "input": "Why is the sky blue?", "max_output_tokens": 2000,
            "reasoning": {"effort": "low"}}


@pytest.mark.parametrize("model", [CLAUDE, GEMINI, R1])
def test_streamed_reasoning_text_events(world: World, model: str):
    with world.client().responses.stream(**body(model)) as stream:
        events = list(stream)
        final = stream.get_final_response()
    reasoning = final.output[0]
    assert reasoning.type == "reasoning"
    item_events = [e for e in events if getattr(e, "item_id", None) == reasoning.id
                   or getattr(getattr(e, "item", None), "id", None) == reasoning.id]
    names = [e.type for e in item_events]
    # Live reasoning first, then the summary part, as the reference orders them.
    assert [n for n in names if not n.endswith(".delta")] == REASONING_ORDER
    assert names[1] == "response.reasoning_text.delta"
    assert names.index("response.reasoning_text.done") < names.index(
        "response.reasoning_summary_text.delta")
    deltas = "".join(e.delta for e in item_events if e.type == "response.reasoning_text.delta")
    (done,) = [e for e in item_events if e.type == "response.reasoning_text.done"]
    assert deltas and done.text == deltas and done.content_index == 0
    assert reasoning.content and reasoning.content[0].type == "reasoning_text"
    assert reasoning.content[0].text == deltas
    assert reasoning.summary[0].text == deltas
    assert [e.sequence_number for e in events] == list(range(len(events)))


@pytest.mark.parametrize("model", [CLAUDE, R1])
def test_reasoning_item_carries_reasoning_text(world: World, model: str):
    response = world.client().responses.create(**body(model))
    reasoning = response.output[0]
    assert reasoning.type == "reasoning" and reasoning.content
    assert reasoning.content[0].type == "reasoning_text" and reasoning.content[0].text
    assert response.output_text
