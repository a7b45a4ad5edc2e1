"""Response healing through the real gateway and simulator with the openai SDK: every kind of
malformed JSON the simulator produces arrives as JSON, streamed and not, in each wire format,
and the answer says it was healed."""

import json
from typing import Any

import pytest

from simulator.knobs import MALFORMED_KINDS
from simulator.testing import set_knobs
from tests.gateway.conftest import ANTHROPIC_MODEL, GEMINI_MODEL, OPENAI_MODEL, World

PROVIDERS = {OPENAI_MODEL: "openai", ANTHROPIC_MODEL: "anthropic",
             GEMINI_MODEL: "google-ai-studio"}
SCHEMA = {"type": "json_schema", "json_schema": {"name": "city", "strict": True, "schema": {
    "type": "object", "properties": {"city": {"type": "string"}, "rank": {"type": "integer"},
                                     "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["city", "rank", "tags"]}}}


def spoil(world: World, model: str, kind: str) -> None:
    set_knobs(world.sim, PROVIDERS[model], malformed_json_rate=1.0, malformed_json_kinds=[kind])


def ask(world: World, model: str = OPENAI_MODEL, **extra: Any) -> Any:
    return world.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": "A city as JSON."}],
        response_format=extra.pop("response_format", SCHEMA), **extra)


def stages(payload: Any) -> list[str]:
    meta = (payload.model_extra or {}).get("openrouter_metadata") or {}
    return [s["type"] for s in meta.get("pipeline") or ()]


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_each_malformed_kind_arrives_healed(world: World, kind: str) -> None:
    spoil(world, OPENAI_MODEL, kind)
    answer = ask(world)
    value = json.loads(answer.choices[0].message.content)
    assert isinstance(value, dict) and "city" in value
    assert stages(answer) == ["response_healing"]
    event = next(e for e in world.events() if e["id"] == answer.id)
    assert event["response_healed"] is True


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_each_malformed_kind_arrives_healed_in_a_stream(world: World, kind: str) -> None:
    spoil(world, OPENAI_MODEL, kind)
    chunks = list(ask(world, stream=True))
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    value = json.loads("".join(pieces))
    assert isinstance(value, dict) and "city" in value
    # Streamed as it came: more than one delta carried the JSON.
    assert sum(1 for p in pieces if p) > 2
    assert stages(chunks[-1]) == ["response_healing"]
    assert chunks[-1].usage.completion_tokens > 0
    event = next(e for e in world.events() if e["id"] == chunks[-1].id)
    assert event["response_healed"] is True


@pytest.mark.parametrize("model", [ANTHROPIC_MODEL, GEMINI_MODEL])
@pytest.mark.parametrize("stream", [False, True])
def test_other_wire_formats(world: World, model: str, stream: bool) -> None:
    spoil(world, model, "code_fence")
    if stream:
        text = "".join(c.choices[0].delta.content or "" for c in ask(world, model, stream=True)
                       if c.choices)
    else:
        text = ask(world, model).choices[0].message.content
    assert "city" in json.loads(text)


def test_valid_json_is_untouched_and_unmarked(world: World) -> None:
    answer = ask(world, response_format={"type": "json_object"})
    assert json.loads(answer.choices[0].message.content)
    assert stages(answer) == []


def test_named_plugin_heals_without_response_format(world: World) -> None:
    spoil(world, OPENAI_MODEL, "trailing_text")
    # No JSON asked: the simulator answers prose, which has nothing to heal.
    answer = world.client().chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=10,
        extra_body={"plugins": [{"id": "response-healing"}]})
    assert answer.choices[0].message.content
    assert stages(answer) == []


def test_healing_can_be_turned_off(world: World) -> None:
    spoil(world, OPENAI_MODEL, "code_fence")
    answer = ask(world, extra_body={"plugins": [{"id": "response-healing", "enabled": False}]})
    assert answer.choices[0].message.content.startswith("Here is the JSON")


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_cut_by_max_tokens_stays_broken(world: World, stream: bool) -> None:
    """Closing it would pass half an answer off as a whole one (reference §21.3)."""
    if stream:
        chunks = list(ask(world, stream=True, max_tokens=6))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = next(c.choices[0].finish_reason for c in chunks
                      if c.choices and c.choices[0].finish_reason)
        last = chunks[-1]
    else:
        last = ask(world, max_tokens=6)
        text, finish = last.choices[0].message.content, last.choices[0].finish_reason
    assert finish == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert stages(last) == []
